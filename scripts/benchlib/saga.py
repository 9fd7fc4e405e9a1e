"""Area saga: the keep-pace ladder, the sustained and half-rate runs, the read side."""
import math

import saga_metrics  # bench/saga_metrics.py
from benchlib.common import KEEP_PACE_DRAIN_S
from benchlib.meter import Meter
from benchlib.runner import judge, run_wrk, wrk_row
from benchlib.saga_state import BacklogSampler, SagaProbe, backlog_grows, rabbitmq_queues, wait_drained


def saga_run(bench, probe, name, rate, seconds):
    """Paced sends at RATE/s for SECONDS, then the drain: one row, CPU per completed saga over
    load + drain, send->UNREAD latency from the histogram deltas, the backlog samples."""
    c = bench.args.saga_connections
    pairs = bench.pairs()  # registered before the meter starts
    wait_drained(bench, probe, "%s: waiting for a quiet saga before" % name)
    before = saga_metrics.scrape(bench.dialogs_metrics())
    meter = Meter(bench.roots).start()
    with BacklogSampler(bench.env) as sampler:
        w = run_wrk(bench, "%s_%d" % (name.replace(" ", "_"), rate), "bench/send.lua", c, seconds,
                    {"BENCH_PAIRS": pairs, "BENCH_RATE": str(rate)},
                    "%s at %d/s c=%d" % (name, rate, c), sampler.last)
    at_stop = probe.snapshot()
    drain = wait_drained(bench, probe, "%s: drain" % name)
    m = meter.stop()
    saga = saga_metrics.histogram_delta(before, saga_metrics.scrape(bench.dialogs_metrics()),
                                        "saga_send_to_unread_seconds")
    row = wrk_row("saga", name, c, w, m, ops=saga["count"] or None)
    grows = backlog_grows(sampler.samples, rate)
    row.update({"target_rate": rate, "saga": saga, "drain_s": drain, "backlog_at_stop": at_stop,
                "backlog_samples": sampler.samples, "backlog_grows": grows})
    row["kept_pace"] = (row["rps"] >= 0.95 * rate and drain is not None and drain <= KEEP_PACE_DRAIN_S
                        and not grows and not row["non2xx"] and not row["socket_errors"])
    short = ", achieved only %d%%" % (100 * row["rps"] / rate) if row["rps"] < 0.95 * rate else ""
    row["note"] = "paced %d/s%s: e2e p50/p99 %s/%s ms, drain %s s, pending at stop %d%s" % (
        rate, short, saga["p50_ms"], saga["p99_ms"], drain, at_stop["pending"], ", backlog grew" if grows else "")
    return row


def read_saga_run(bench, probe):
    """The read side of the saga: each recipient lists its dialog as dialogs marks it read (the
    default MARK_AS_READ_ON_LISTING), wrk for --half s; read->READ latency from dialogs'
    saga_read_to_read_seconds histogram deltas, and the drain. CPU per list request."""
    c = bench.args.saga_connections
    pairs = bench.pairs()
    wait_drained(bench, probe, "saga reads: waiting for a quiet saga before")
    before = saga_metrics.scrape(bench.dialogs_metrics())
    meter = Meter(bench.roots).start()
    w = run_wrk(bench, "saga_reads", "bench/list.lua", c, bench.args.half, {"BENCH_PAIRS": pairs},
                "saga reads: list, marking read, c=%d" % c)
    drain = wait_drained(bench, probe, "saga reads: drain")
    m = meter.stop()
    saga = saga_metrics.histogram_delta(before, saga_metrics.scrape(bench.dialogs_metrics()),
                                        "saga_read_to_read_seconds")
    row = wrk_row("saga", "saga reads (list marks read)", c, w, m)
    row.update({"saga": saga, "drain_s": drain, "target": "", "pass": None,
                "note": "%d messages read: read->READ p50/p99 %s/%s ms, drain %s s" % (
                    saga["count"], saga["p50_ms"], saga["p99_ms"], drain)})
    return row


def saga_ladder(bench, base):
    """The rates to try first: fractions of the pgbench rate, or --saga-rates, or 250 x 1.4^k."""
    if bench.args.saga_rates:
        return [float(r) for r in bench.args.saga_rates.split(",")]
    if base:
        return [round(base * f) for f in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)]
    return [round(250 * 1.4 ** k) for k in range(10)]


def find_keep_pace_rate(bench, probe, base, base_name):
    """Climb the ladder to the first rung missed (or step down by halves when the first is
    missed), then bisect --saga-refine times: the highest rate kept, or None."""
    kept, missed = None, None

    def step(rate):
        nonlocal kept, missed
        row = judge(saga_run(bench, probe, "saga step", rate, bench.args.saga_step), base_name, base)
        row["target"], row["result"] = "keeps pace (drain<=2s)", "kept" if row["kept_pace"] else "missed"
        bench.rows.append(row)
        bench.progress.say("saga step %d/s: achieved %.0f/s, drain %s s, e2e p99 %s ms -> %s" % (
            rate, row["rps"], row["drain_s"], row["saga"]["p99_ms"], "kept pace" if row["kept_pace"] else "missed"))
        if row["kept_pace"]:
            kept = rate if kept is None else max(kept, rate)
        else:
            missed = rate if missed is None else min(missed, rate)
        return row["kept_pace"]

    ladder = saga_ladder(bench, base)
    for rate in ladder:
        if not step(rate):
            break
    if kept is None:
        rate = ladder[0]
        for _ in range(4):
            rate = round(rate / 2)
            if step(rate):
                break
    for _ in range(bench.args.saga_refine if kept and missed else 0):
        mid = round(math.sqrt(kept * missed))
        if mid in (kept, missed):
            break
        step(mid)
    return kept


def half_rate(sustained):
    """The pace of the half-rate run: half the rate the sustained run held. A 15 s rung of the
    ladder can keep pace at a rate the 60 s run then falls short of; half of that paced rate would
    measure the latency nearer the ceiling than the target's "half the rate it keeps pace with"."""
    held = sustained["target_rate"]
    if not sustained["kept_pace"]:
        held = min(held, sustained["rps"])
    return max(1, round(held / 2))


def area_saga(bench):
    """Keep-pace rate, sustained run at it, half-rate run for the end-to-end p99, then the reads
    that mark all those messages read (read->READ latency and drain)."""
    c = bench.args.saga_connections
    base = bench.limits.pgbench(c)
    probe = SagaProbe(bench.env)
    try:
        rate = find_keep_pace_rate(bench, probe, base, "pgbench c%d" % c)
        bench.details["saga_keep_pace_rate"] = rate
        if rate is None:
            bench.add({"area": "saga", "scenario": "saga sustained", "concurrency": c, "rps": None,
                       "target": ">=0.6x pgbench c%d" % c, "pass": False, "note": "no rate kept pace"})
            return
        row = saga_run(bench, probe, "saga sustained", rate, bench.args.sustain)
        bench.add(judge(row, "pgbench c%d" % c, base, 0.6, [("kept pace", row["kept_pace"])]))
        row = saga_run(bench, probe, "saga half rate", half_rate(row), bench.args.half)
        p99 = row["saga"]["p99_ms"]
        bench.add(judge(row, "pgbench c%d" % c, base, None, [("e2e p99<=50ms", p99 is not None and p99 <= 50)]))
        bench.add(read_saga_run(bench, probe))
        queues = rabbitmq_queues()
        bench.details["saga_queues_after"] = queues
        dead = {q: n for q, n in queues.items() if q.endswith(".dead") and n}
        if dead:
            bench.progress.say("warning: dead-lettered messages: %s" % dead)
    finally:
        probe.close()
