#!/usr/bin/env bash
# Everything `make test` does after the build: bring the stack up, run the C++ tests
# (ctest) and the end-to-end tests (pytest), then the cluster profile's fault rounds, and always
# take the stack down again.
# Exit status is non-zero if any step failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR="${BUILD_DIR:-build}"
STACK=scripts/stack
failed=()

# Whatever happens (failure, Ctrl-C), leave no process behind.
trap '"$STACK" down' EXIT

# The single-node profile first; a cluster left running gives way.
[ "$(cat "${DATA_DIR:-.data}/profile" 2>/dev/null)" != cluster ] || "$STACK" down
export STACK_PROFILE=single

# Infrastructure first: the C++ integration tests need only it, so they still run
# (and report) when a service does not come up.
if ! "$STACK" up-infra; then
    echo "test.sh: infrastructure did not come up" >&2
    exit 1
fi
services_up=1
if ! "$STACK" up; then
    failed+=("stack up")
    services_up=0
fi

# Ports, URLs and DSNs of the stack, for tests that look for them (PG_TEST_DSN, BACKEND_URL, ...).
eval "$("$STACK" env)"

# A hung test fails after two minutes instead of holding CI until its own limit.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 120 || failed+=("ctest")

# The scripts' own logic (no servers needed).
/usr/bin/python3 -m pytest -q tests/unit || failed+=("pytest tests/unit")

if [ -d tests/e2e ]; then
    if [ "$services_up" -eq 1 ]; then
        # Debian's interpreter: the pyenv python3 on PATH does not see python3-* packages.
        /usr/bin/python3 -m pytest -q tests/e2e
        rc=$?
        case "$rc" in
            0) ;;
            5) echo "test.sh: pytest collected no tests in tests/e2e" ;;  # not a failure
            *) failed+=("pytest") ;;
        esac
    else
        echo "test.sh: skipping tests/e2e: the services are not up" >&2
    fi
fi

# The web client in a real browser: Playwright with Debian's chromium (web/tests; screenshots in results/web).
if [ "$services_up" -eq 1 ] && [ -d web/tests ]; then
    (cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npx playwright test) \
        || failed+=("browser tests")
fi

# Hardening (docs/hardening.md): each fuzz target briefly, then ctest, e2e and a 2-minute soak with
# faults on the ASan + UBSan build (its own stack on the same ports and data). HARDENING=0 skips.
if [ "${HARDENING:-1}" = 1 ]; then
    "$STACK" down >/dev/null
    FUZZ_SECONDS="${FUZZ_SECONDS:-20}" scripts/fuzz.sh || failed+=("fuzz")
    SOAK_MINUTES="${SOAK_MINUTES:-2}" scripts/sanitize.sh || failed+=("sanitizers")
fi

# The cluster profile's fault rounds (tests/cluster): the single stack gives way to the cluster.
# CLUSTER_TESTS=0 skips them.
if [ "${CLUSTER_TESTS:-1}" != 0 ]; then
    "$STACK" down
    export STACK_PROFILE=cluster
    if "$STACK" up; then
        (eval "$("$STACK" env)" && /usr/bin/python3 -m pytest -q -s tests/cluster) || failed+=("pytest tests/cluster")
    else
        failed+=("cluster up")
    fi
fi

if [ "${#failed[@]}" -gt 0 ]; then
    echo "test.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "test.sh: all green"
