#!/usr/bin/env bash
# A/B of two builds on one stack: the same bench areas against each, alternating A B A B, so the
# machine's drift falls on both. Compare the rows of the four tables it prints.
#
#   git worktree add /tmp/base <commit> && cmake -S /tmp/base -B /tmp/base/build -G Ninja \
#       -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache && cmake --build /tmp/base/build
#   bench/ab.sh /tmp/base/build build limits send reads
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: bench/ab.sh BUILD_DIR_A BUILD_DIR_B AREA..." >&2; exit 2; }
a="$(cd "$1" && pwd)" b="$(cd "$2" && pwd)"
shift 2
for run in A1 B1 A2 B2; do
    case $run in A*) dir=$a ;; *) dir=$b ;; esac
    BUILD_DIR="$dir" scripts/stack up >/dev/null
    echo "== $run: $dir ($(date -u +%T))"
    BUILD_DIR="$dir" /usr/bin/python3 scripts/bench.py --quick --no-plot "$@" | grep -v '^\['
    scripts/stack down >/dev/null
done
