#!/usr/bin/env python3
"""Medians over several `make bench` runs: each targeted row's ratio and p99 in every run, their
medians, and in how many runs it passed.

Each ratio stays one measured within its own run (the row's rate over a limit of the same run, or
over its floor where the row is judged against one: the send and the sustained saga),
since this machine's speed drifts between runs; only then are the runs' ratios put side by side.

    scripts/bench_median.py results/bench_20261129T*.json
    scripts/bench_median.py --last 3            # the three newest runs in results/
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def judged_ratio(row):
    """The ratio the row's target judges: over its floor where it has one (send, saga sustained),
    else over its limit."""
    return row.get("floor_ratio") if "floor_ratio" in row else row.get("ratio")


def targeted_rows(run):
    """(key, row) of the run's rows that have a target, in the run's order; a scenario measured
    more than once at one concurrency (the saga's ladder) keeps its last row."""
    rows = {}
    for row in run["rows"]:
        if row.get("pass") is None:
            continue
        rows[(row["area"], row["scenario"], row["concurrency"])] = row
    return rows


def summarise(runs):
    """One line per targeted scenario and concurrency, in the first run's order: values per run
    (None where a run lacks the row), medians over the runs that have it, passes."""
    order, by_key = [], {}
    for i, run in enumerate(runs):
        for key, row in targeted_rows(run).items():
            if key not in by_key:
                order.append(key)
                by_key[key] = [None] * len(runs)
            by_key[key][i] = row
    lines = []
    for key in order:
        present = [row for row in by_key[key] if row is not None]
        ratios = [row and judged_ratio(row) for row in by_key[key]]
        p99s = [row and p99_ms(row) for row in by_key[key]]
        lines.append({
            "area": key[0], "scenario": key[1], "concurrency": key[2],
            "target": present[-1]["target"],
            "ratios": ratios, "p99_ms": p99s,
            "median_ratio": median(ratios), "median_p99_ms": median(p99s),
            "passed": sum(1 for row in present if row["pass"]), "runs": len(present),
        })
    return lines


def p99_ms(row):
    """The p99 the row's target speaks of: a saga row's is send -> UNREAD, others' wrk's."""
    saga = row.get("saga")
    return saga.get("p99_ms") if isinstance(saga, dict) else row.get("p99_ms")


def median(values):
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def text(value):
    return "-" if value is None else "%g" % value


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="results/bench_<UTC>.json of the runs")
    ap.add_argument("--last", type=int, help="the N newest results/bench_<UTC>.json instead")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    files = [Path(f) for f in args.files]
    if args.last:
        files = sorted((REPO / "results").glob("bench_2*.json"))[-args.last:]
    if not files:
        ap.error("name the runs' JSON files, or --last N")
    runs = [json.loads(f.read_text()) for f in files]
    lines = summarise(runs)
    if args.json:
        json.dump({"runs": [str(f) for f in files], "rows": lines}, sys.stdout, indent=1)
        print()
        return 0
    print("runs: " + ", ".join("%s (%s)" % (f.name, run.get("git", "?")) for f, run in zip(files, runs)))
    print("| scenario | c | target | ratio per run | median | p99 ms per run (saga: send -> UNREAD) | median | passed |")
    print("|---|---|---|---|---|---|---|---|")
    for line in lines:
        print("| %s | %s | %s | %s | %s | %s | %s | %d of %d |" % (
            line["scenario"], text(line["concurrency"]), line["target"],
            " / ".join(text(r) for r in line["ratios"]), text(line["median_ratio"]),
            " / ".join(text(p) for p in line["p99_ms"]), text(line["median_p99_ms"]),
            line["passed"], line["runs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
