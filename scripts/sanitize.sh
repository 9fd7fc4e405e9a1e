#!/usr/bin/env bash
# The sanitizer runs (docs/hardening.md): the services, tools and C++ tests built with a sanitizer,
# then ctest, the e2e suite and the short soak against that build. SANITIZER picks the build:
#   address (default; `make sanitize`, in `make test`): AddressSanitizer + UndefinedBehaviorSanitizer,
#           build-asan (clang-14, -DSN_FUZZ=ON, the same build as the fuzz targets)
#   thread  (`make tsan`): ThreadSanitizer, build-tsan (clang-14, -DSN_TSAN=ON); suppressions for
#           third-party code only, in scripts/tsan.supp
# Any sanitizer report fails the run: the tests' own (their exit status), and the services'
# (they run under supervisord, so their reports are written to files, looked for at the end).
#   scripts/sanitize.sh                 the whole run (the stack must be down; it is left down)
#   scripts/sanitize.sh configure DIR   configure DIR as the sanitizer build when it is not yet
# SOAK_MINUTES (default 2) for the soak; SANITIZE_SOAK=0 skips it.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SANITIZER="${SANITIZER:-address}"
case "$SANITIZER" in
    address) NAME=asan FLAGS=(-DSN_FUZZ=ON) WHAT="ASan + UBSan + libFuzzer coverage" ;;
    thread) NAME=tsan FLAGS=(-DSN_TSAN=ON) WHAT="ThreadSanitizer" ;;
    *) echo "sanitize: SANITIZER must be address or thread, not '$SANITIZER'" >&2; exit 2 ;;
esac

configure() {
    local dir="$1"
    [ -f "$dir/build.ninja" ] && return 0
    echo "sanitize: configuring $dir (clang-14, $WHAT)"
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
        -DCMAKE_CXX_COMPILER_LAUNCHER=ccache "${FLAGS[@]}" >/dev/null
}

if [ "${1:-}" = configure ]; then
    configure "${2:?usage: sanitize.sh configure DIR}"
    exit $?
fi

BUILD="$PWD/build-$NAME"   # absolute: supervisord starts the services from their own folders
STACK=scripts/stack
DATA_DIR="${DATA_DIR:-$PWD/.data}"
REPORTS="$DATA_DIR/sanitizer"
failed=()

configure "$BUILD" || exit 1
cmake --build "$BUILD" -j"$(nproc)" || { echo "sanitize: build failed" >&2; exit 1; }

rm -rf "$REPORTS"
mkdir -p "$REPORTS"
# Every process of the run writes its reports to $REPORTS/<tool>.<pid> (the services' output goes
# to supervisord's logs, where nobody would look) and stops at the first one with exit code 86.
# Leaks: looked for in the C++ tests (short processes that exit normally); not in the services,
# which end by SIGTERM, SIGKILL in the fault tests, or the soak's faults (docs/hardening.md).
# ThreadSanitizer: the same, its reports to $REPORTS/tsan.<pid>, suppressions from scripts/tsan.supp.
if [ "$SANITIZER" = address ]; then
    export ASAN_OPTIONS="log_path=$REPORTS/asan:halt_on_error=1:exitcode=86:detect_leaks=0:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1"
    export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:halt_on_error=1:print_stacktrace=1:exitcode=86"
else
    export TSAN_OPTIONS="log_path=$REPORTS/tsan:halt_on_error=1:exitcode=86:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
fi
export BUILD_DIR="$BUILD" SAGACTL="$BUILD/tools/sagactl/sagactl"
trap '"$STACK" down >/dev/null 2>&1' EXIT

if ! "$STACK" up; then
    echo "sanitize: the sanitizer build's stack did not come up" >&2
    failed+=("stack up")
else
    eval "$("$STACK" env)"
    ASAN_OPTIONS="${ASAN_OPTIONS:+${ASAN_OPTIONS/detect_leaks=0/detect_leaks=1}}" \
        ctest --test-dir "$BUILD" --output-on-failure -j2 --timeout 240 || failed+=("ctest")
    /usr/bin/python3 -m pytest -q tests/e2e || failed+=("pytest tests/e2e")
    if [ "${SANITIZE_SOAK:-1}" = 1 ]; then
        /usr/bin/python3 scripts/soak/soak.py --minutes "${SOAK_MINUTES:-2}" \
            --out "$DATA_DIR/soak-$NAME" || failed+=("soak")
    fi
fi
"$STACK" down >/dev/null 2>&1
trap - EXIT

# The services' reports (and any a test wrote besides failing). Every process that runs a pooled
# coroutine also writes ASan's one-line warning that it "doesn't fully support makecontext/swapcontext"
# (the ucontext fibers, CMakeLists.txt): that line alone is not a report.
mapfile -t reports < <(grep -l -E 'ERROR|runtime error|SUMMARY|LeakSanitizer|ThreadSanitizer' "$REPORTS"/* 2>/dev/null)
if [ "${#reports[@]}" -gt 0 ]; then
    echo "sanitize: sanitizer reports:" >&2
    for f in "${reports[@]}"; do
        echo "---- $f" >&2
        head -n 60 "$f" >&2
    done
    failed+=("sanitizer reports")
fi
if [ "${#failed[@]}" -gt 0 ]; then
    echo "sanitize: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "sanitize: no sanitizer report; ctest, e2e and soak green on the $WHAT build"
