#!/usr/bin/env bash
# Install the Debian packages this project needs, but only those that are missing,
# so a warm machine pays nothing and a fresh bookworm machine gets everything.
set -euo pipefail

PACKAGES=(
    build-essential cmake ninja-build ccache pkg-config
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-context1.81-dev
    libpq-dev librabbitmq-dev libhiredis-dev libsodium-dev libssl-dev
    libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
    postgresql-15 rabbitmq-server redis-server supervisor
    postgresql-15-auto-failover redis-sentinel haproxy nftables iproute2
    curl jq wrk gnuplot-nox
    python3-pytest python3-requests python3-psycopg2 python3-pika
    python3-jsonschema python3-websocket
    chromium
    clang-14 libfuzzer-14-dev
)

missing_packages() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        # dpkg -s succeeds for removed-but-configured packages too; check the status line.
        if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
            echo "$pkg"
        fi
    done
}

main() {
    local missing
    mapfile -t missing < <(missing_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "deps: all ${#PACKAGES[@]} Debian packages already installed"
        return 0
    fi

    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)

    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    # The postgresql/redis/rabbitmq packages try to start system instances through
    # invoke-rc.d. Without systemd that may fail; a policy-rc.d that says "no" (101)
    # makes the postinst skip starting them, so the install itself cannot fail on it.
    # Our stack uses its own ports and folders and never needs those instances.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod 755 "$policy"
        created_policy=1
    fi
    local rc=0
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
    [ "$created_policy" -eq 0 ] || "${sudo[@]}" rm -f "$policy"
    if [ "$rc" -ne 0 ]; then
        echo "deps: apt-get install failed (exit $rc)" >&2
        return "$rc"
    fi

    # Double-check: a package whose postinst failed is left half-configured.
    mapfile -t missing < <(missing_packages)
    if [ "${#missing[@]}" -ne 0 ]; then
        echo "deps: still not installed: ${missing[*]}" >&2
        return 1
    fi
    echo "deps: done"
}

main "$@"
