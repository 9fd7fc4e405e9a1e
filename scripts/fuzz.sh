#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/) for FUZZ_SECONDS each, after replaying the inputs that once
# found a bug (fuzz/regressions/<target>/). The targets live in the sanitizer build (build-asan,
# clang-14, -DSN_FUZZ=ON: ASan + UBSan + coverage), configured here when missing.
#   scripts/fuzz.sh [TARGET...]     FUZZ_SECONDS (default 180), FUZZ_BUILD_DIR (default build-asan)
# Seeds come from fuzz/corpus/<target>/ (kept in git, small); what the fuzzer adds goes to
# $FUZZ_BUILD_DIR/fuzz-corpus/<target>/ and its findings to $FUZZ_BUILD_DIR/fuzz-findings/.
# Prints executions and executions per second per target; exit 1 if any target found something.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-180}"
BUILD="${FUZZ_BUILD_DIR:-build-asan}"
TARGETS=(http_fuzz json_fuzz token_fuzz saga_events_fuzz websocket_fuzz config_fuzz)
[ "$#" -gt 0 ] && TARGETS=("$@")

scripts/sanitize.sh configure "$BUILD" || exit 1
cmake --build "$BUILD" --target fuzzers -j"$(nproc)" || exit 1

# Sanitizer reports end the run and name the input; leaks are looked for too (-detect_leaks below).
export ASAN_OPTIONS="abort_on_error=1:halt_on_error=1:detect_leaks=1:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed=()
summary=()
for target in "${TARGETS[@]}"; do
    bin="$BUILD/fuzz/$target"
    seeds="fuzz/corpus/$target"
    work="$BUILD/fuzz-corpus/$target"
    findings="$BUILD/fuzz-findings/$target"
    mkdir -p "$work" "$findings"
    dict=()
    [ -f "fuzz/dict/$target.dict" ] && dict=("-dict=fuzz/dict/$target.dict")
    log="$BUILD/fuzz-$target.log"
    # The inputs that found bugs must stay fixed: a fuzzer given files (not folders) just runs them.
    if [ -d "fuzz/regressions/$target" ] && compgen -G "fuzz/regressions/$target/*" >/dev/null; then
        if ! "$bin" -runs=1 fuzz/regressions/"$target"/* >"$log.regressions" 2>&1; then
            echo "fuzz: $target: a kept regression input fails again (see $log.regressions)" >&2
            failed+=("$target(regression)")
            continue
        fi
    fi
    echo "fuzz: $target for ${FUZZ_SECONDS}s"
    # -rss_limit_mb: a request that makes the process grow past it is a finding too.
    # -timeout: one input taking longer is a hang (a registration hashes a password: ~0.1 s here).
    "$bin" "$work" "$seeds" "${dict[@]}" -max_total_time="$FUZZ_SECONDS" -max_len=8192 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
    rc=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
    summary+=("$(printf '%-18s %10s runs %7s exec/s  cov %6s  rc %s' "$target" "${runs:-?}" "${speed:-?}" "${cov:-?}" "$rc")")
    if [ "$rc" -ne 0 ]; then
        echo "fuzz: $target FOUND something (exit $rc); input in $findings/, log $log:" >&2
        grep -m1 -A30 -E 'ERROR: |runtime error|fuzz finding|==[0-9]+==' "$log" >&2
        failed+=("$target")
    fi
done
echo "fuzz: ${FUZZ_SECONDS}s per target"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
