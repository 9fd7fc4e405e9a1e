#!/usr/bin/env bash
# ThreadSanitizer run (`make tsan`, docs/hardening.md): the C++ tests built with -fsanitize=thread
# (build-tsan: clang-14, -DSN_TSAN=ON, the `cxx_tests` target only: libraries and test binaries,
# no services), then ctest against the engines of the single stack (PostgreSQL, RabbitMQ, Redis).
# A report stops the test process that hit it (halt_on_error) and so fails ctest.
#   scripts/tsan.sh                  build, stack up-infra, ctest, stack down (the stack must be down)
#   scripts/tsan.sh configure DIR    configure DIR as the TSan build when it is not yet
# TSAN_CTEST_ARGS: more ctest arguments (e.g. "-R Pool").
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

configure() {
    local dir="$1"
    [ -f "$dir/build.ninja" ] && return 0
    echo "tsan: configuring $dir (clang-14, ThreadSanitizer)"
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
        -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DSN_TSAN=ON >/dev/null
}

if [ "${1:-}" = configure ]; then
    configure "${2:?usage: tsan.sh configure DIR}"
    exit $?
fi

BUILD="$PWD/build-tsan"
STACK=scripts/stack

configure "$BUILD" || exit 1
cmake --build "$BUILD" --target cxx_tests -j"$(nproc)" || { echo "tsan: build failed" >&2; exit 1; }

# Suppressions: only for third-party code, each with its reason (scripts/tsan.supp).
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
trap '"$STACK" down >/dev/null 2>&1' EXIT
if ! STACK_PROFILE=single "$STACK" up-infra; then
    echo "tsan: the engines did not come up" >&2
    exit 1
fi
eval "$("$STACK" env)"
# -j2 and 300 s: TSan makes the tests 5-15 times slower.
# shellcheck disable=SC2086
ctest --test-dir "$BUILD" --output-on-failure -j2 --timeout 300 ${TSAN_CTEST_ARGS:-}
rc=$?
"$STACK" down >/dev/null 2>&1
trap - EXIT
if [ "$rc" -ne 0 ]; then
    echo "tsan: FAILED (a ThreadSanitizer report stops its test with exit code 66)" >&2
    exit 1
fi
echo "tsan: ctest green on the ThreadSanitizer build, no report"
