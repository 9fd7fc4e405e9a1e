#!/usr/bin/python3
"""The one benchmark runner: every figure next to the physical limit measured in the same run.

  scripts/bench.py [--quick] [options] [area ...]      (all areas by default, in this order)

areas
  limits  the limits themselves: bench/pgbench_send.sh (dialogs' send transaction alone in
          PostgreSQL), bench/http_ceiling.sh (backend /healthz, counters /counters/ping direct
          and through the gateway), build/tools/amqp_bench/amqp_bench (RabbitMQ through libs/amqp).
          Other areas measure the limits they are quoted against when `limits` did not.
  send    POST /dialog/{id}/send alone: counters (and counters-2) stopped, so the saga consumers
          are paused while dialogs' outbox relay keeps publishing into the queue; wrk at each
          concurrency, judged at >= 0.8 of the send's floor measured in the same run (the two HTTP
          hops alone plus the statement alone: 1/(1/hops + 1/statement), latencies adding at c1,
          CPU costs at c16 and c64; benchlib/limits.py says why), the pgbench ratio beside it.
          Then counters starts again and the drain is timed until `sagactl check` passes.
  saga    the whole saga, everything running. The keep-pace ladder (each step --saga-step s at
          --saga-connections connections) first sends unpaced; if the saga keeps pace with that,
          it is the rate. Else paced rungs at 0.5-0.9 of the unpaced rate (or --saga-rates) are
          climbed and bisected --saga-refine times. A step keeps pace when the PENDING backlog
          does not grow, everything drains (sagactl check) within 2 s of the load stopping and
          no answer is an error; a paced step that achieves less than 0.95 of its rate kept pace
          at the rate it achieved (the sends, not the saga, fell short). The sustained row says
          which criterion stopped the ladder. Then --sustain s at that rate (target >= 0.8 of
          the saga's floor: CPU of the send alone, consumers paused, plus the rest of a saga
          drained, per saga; the send area's legs, measured here when it did not run; pgbench
          ratio beside it) and --half s at half of what that run held (target: send->UNREAD
          p99 <= 50 ms, from dialogs' saga_send_to_unread_seconds histogram deltas). CPU per
          operation here is per completed saga, load plus drain.
          Last, --half s of each recipient listing its dialog, which marks it read: list req/s,
          read->READ p50/p99 (saga_read_to_read_seconds) and the drain.
  reads   GET /counters/unread (bench/unread.lua; target >= 0.5 x gateway ceiling, p99 <= 2 ms
          at c16) and GET /dialog/{id}/list of dialogs holding 100 messages (bench/list.lua, as
          the recipient; target >= 0.3 x gateway ceiling). dialogs is restarted with
          MARK_AS_READ_ON_LISTING=0 for these runs, so listing reads only (no read events), and
          restarted with its defaults afterwards.
  feed    GET /post/feed warm (bench/feed.lua; target >= 0.4 x backend /healthz ceiling), then
          the cold rebuild and post->WebSocket latency of scripts/bench_feed.py.
  search  bench/search.py per concurrency on a million users (scripts/gen_data.py --users
          1000000 first when the users table holds fewer than 950,000); target p99 <= 20 ms at c16.
  cluster the price of replication: the send at c16 (unpaced, everything running) and the
          sustained saga on the single profile, then on the cluster profile (scripts/stack down,
          STACK_PROFILE=cluster scripts/stack up), each cluster row with its ratio to the single
          one (one machine: every replica shares the same 2 cores); then the fault rounds of
          tests/cluster/test_faults.py, a row per fault with its seconds of non-2xx answers.
          Leaves the single stack up; runs last.

Every run first empties dialogs' and counters' tables (messages, unread counters, outboxes,
inboxes) and purges the saga's queues, with both services stopped, then loads the same background
of --dialogs dialogs holding --messages messages in all (10,000 and 1,000,000; between existing
users, with their unread counters; scripts/gen_data.py, ~5 s) before starting them again
(--keep-data skips all of it): the users, posts and friends stay. Runs then start alike instead of
on the millions of messages every earlier run left behind, and on tables of a realistic size
rather than empty ones.

For every load run: req/s, latency p50/p99/p99.9 (wrk), CPU microseconds per operation summed
over every process of the stack (each component's process tree from `scripts/stack pid NAME`:
utime+stime plus the children it reaped, so PostgreSQL backends that came and went count;
wrk's own CPU separately), and each service's peak RSS (VmHWM after `echo 5 > clear_refs`).
Prints a progress line on stderr, then a table on stdout; writes results/bench_<UTC>.json (all
of it), results/bench_<UTC>.png (gnuplot) and results/bench_<UTC>/ (raw outputs). wrk, the
limits and the stack share the machine's cores: the figures are for this machine, as ratios.

Every command the bench starts gets the running stack's coordinates (`scripts/stack env`) in its
environment, so it measures this worktree's stack on whatever ports it has.

The Makefile targets (make bench, bench-limits, bench-send, bench-saga, bench-reads,
bench-feed, bench-search, bench-cluster) build, bring the stack up and run this; BENCH_ARGS
passes options. Durations: --quick is ~10 minutes for all areas (the cluster ~5 of them), the
default ~25.
"""
import argparse
import sys
import traceback
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import cluster, feed, limits, reads, saga, search, send  # noqa: E402
from benchlib.common import AREAS, REPO  # noqa: E402
from benchlib.report import report  # noqa: E402
from benchlib.run import Bench, check_ready, reset_saga_data  # noqa: E402

AREA_RUNS = {"limits": limits.area_limits, "send": send.area_send, "saga": saga.area_saga,
             "reads": reads.area_reads, "feed": feed.area_feed, "search": search.area_search,
             "cluster": cluster.area_cluster}


def parse_args(argv):
    """Options; --quick only changes the defaults of the durations not given explicitly."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("areas", nargs="*", metavar="area", help="one of %s (default: all)" % ", ".join(AREAS))
    ap.add_argument("--quick", action="store_true", help="short durations: a whole pass in ~5 minutes")
    ap.add_argument("--duration", type=int, help="seconds per load run and per limit (15; quick 5)")
    ap.add_argument("--concurrency", default="1,16,64", help="wrk connections, comma-separated (1,16,64)")
    ap.add_argument("--pairs", type=int, default=50, help="sender/recipient pairs for send and saga (50)")
    ap.add_argument("--saga-connections", type=int, default=16, help="connections of the paced saga runs (16)")
    ap.add_argument("--saga-step", type=int, help="seconds per ladder rung (15; quick 5)")
    ap.add_argument("--saga-rates", help="explicit ladder, sends/s comma-separated (default: an unpaced step, then its fractions)")
    ap.add_argument("--saga-refine", type=int, help="bisections after the ladder (2; quick 1)")
    ap.add_argument("--sustain", type=int, help="seconds of the sustained saga run (60; quick 15)")
    ap.add_argument("--half", type=int, help="seconds of the half-rate saga run (30; quick 10)")
    ap.add_argument("--drain-cap", type=int, default=300, help="give up waiting for a drain after this (300 s)")
    ap.add_argument("--out", default=str(REPO / "results"), help="results folder (results/)")
    ap.add_argument("--no-plot", action="store_true", help="skip the gnuplot PNG")
    ap.add_argument("--keep-data", action="store_true",
                    help="keep the messages, counters and saga queues of earlier runs (default: empty them first)")
    ap.add_argument("--dialogs", type=int, default=10_000, help="dialogs of the background loaded first (10,000)")
    ap.add_argument("--messages", type=int, default=1_000_000,
                    help="messages of the background, spread over its dialogs (1,000,000; 0: none)")
    args = ap.parse_args(argv)
    for area in args.areas:
        if area not in AREAS:
            ap.error("unknown area %r (one of %s)" % (area, ", ".join(AREAS)))
    args.areas = [a for a in AREAS if a in args.areas] if args.areas else list(AREAS)
    quick = args.quick
    defaults = {"duration": (15, 5), "saga_step": (15, 5), "saga_refine": (2, 1), "sustain": (60, 15),
                "half": (30, 10)}
    for name, (full, short) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, short if quick else full)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    return args


def main(argv):
    args = parse_args(argv)
    bench = Bench(args)
    check_ready(bench)
    bench.progress.say("bench %s: areas %s, %d s per run, concurrency %s -> %s" % (
        bench.ts, " ".join(args.areas), args.duration, args.concurrency, bench.work))
    failed = []
    try:
        if not args.keep_data:
            reset_saga_data(bench)
        for area in args.areas:
            try:
                AREA_RUNS[area](bench)
            except Exception as e:  # one area failing must not lose the others' results
                failed.append(area)
                detail = getattr(e, "stderr", "") or ""
                with open(bench.work / "errors.log", "a") as log:
                    log.write("area %s:\n%s%s\n" % (area, traceback.format_exc(), detail))
                bench.progress.say("error: area %s failed: %r %s (traceback in %s/errors.log)"
                                   % (area, e, detail[-400:], bench.work))
                bench.details.setdefault("errors", {})[area] = repr(e)
    except KeyboardInterrupt:
        bench.progress.say("interrupted: reporting what was measured")
        failed.append("interrupted")
    bench.progress.say("done")
    report(bench)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
