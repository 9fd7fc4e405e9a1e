"""Area saga: the keep-pace ladder, the sustained and half-rate runs, the read side."""
import math
import os

import saga_metrics  # bench/saga_metrics.py
from benchlib.common import KEEP_PACE_DRAIN_S
from benchlib.limits import saga_floor
from benchlib.meter import Meter
from benchlib.runner import judge, run_wrk, wrk_row
from benchlib.send import saga_legs
from benchlib.saga_state import BacklogSampler, SagaProbe, backlog_grows, rabbitmq_queues, wait_drained


def saga_run(bench, probe, name, rate, seconds):
    """Sends at RATE/s (None: unpaced, as fast as the connections go) for SECONDS, then the drain:
    one row, CPU per completed saga over load + drain, send->UNREAD latency from the histogram
    deltas, the backlog samples, and the keep-pace verdict (step_verdict)."""
    c = bench.args.saga_connections
    pairs = bench.pairs()  # registered before the meter starts
    wait_drained(bench, probe, "%s: waiting for a quiet saga before" % name)
    before = saga_metrics.scrape(bench.dialogs_metrics())
    meter = Meter(bench.roots).start()
    env = {"BENCH_PAIRS": pairs}
    if rate:
        env["BENCH_RATE"] = str(rate)
    pace = "%d/s" % rate if rate else "unpaced"
    with BacklogSampler(bench.env) as sampler:
        w = run_wrk(bench, "%s_%s" % (name.replace(" ", "_"), rate or "flood"), "bench/send.lua", c, seconds,
                    env, "%s %s c=%d" % (name, pace, c), sampler.last)
    at_stop = probe.snapshot()
    drain = wait_drained(bench, probe, "%s: drain" % name)
    m = meter.stop()
    saga = saga_metrics.histogram_delta(before, saga_metrics.scrape(bench.dialogs_metrics()),
                                        "saga_send_to_unread_seconds")
    row = wrk_row("saga", name, c, w, m, ops=saga["count"] or None)
    grows = backlog_grows(sampler.samples, rate or row["rps"])
    failed = step_verdict(rate, row["rps"], grows, drain, row["non2xx"] or row["socket_errors"])
    row.update({"target_rate": rate, "saga": saga, "drain_s": drain, "backlog_at_stop": at_stop,
                "backlog_samples": sampler.samples, "backlog_grows": grows, "failed": failed,
                "kept_pace": kept_pace(failed), "kept_rate": kept_rate(rate, row["rps"], failed)})
    row["note"] = "%s%s: e2e p50/p99 %s/%s ms, drain %s s, pending at stop %d%s" % (
        "paced %d/s" % rate if rate else "unpaced", ", achieved %d%%" % (100 * row["rps"] / rate)
        if "rate short" in failed else "", saga["p50_ms"], saga["p99_ms"], drain, at_stop["pending"],
        "; missed: " + ", ".join(failed) if failed else "")
    return row


# The saga's own criteria (it fell behind); "rate short" is the sends', not the saga's.
SAGA_CRITERIA = ("errors", "backlog grew", "not drained in 2 s")
RATE_SHORT = 0.95  # a paced step that achieved less than this of its rate is "rate short"


def step_verdict(rate, achieved, backlog_grew, drain_s, errors):
    """The criteria a step missed, in this order: "errors" (non-2xx answers or socket errors),
    "backlog grew" (backlog_grows), "not drained in 2 s" (sagactl check passing more than
    KEEP_PACE_DRAIN_S after the load stopped, or never), "rate short" (a paced step achieving less
    than 0.95 of its rate; an unpaced one never is). Empty: it kept pace at its rate."""
    failed = []
    if errors:
        failed.append("errors")
    if backlog_grew:
        failed.append("backlog grew")
    if drain_s is None or drain_s > KEEP_PACE_DRAIN_S:
        failed.append("not drained in 2 s")
    if rate and achieved < RATE_SHORT * rate:
        failed.append("rate short")
    return failed


def kept_pace(failed):
    """The saga kept pace with what it was sent: none of its own criteria missed. A step that is
    only "rate short" kept pace too, at the rate achieved: the sends could not be offered faster
    (wrk's connections waiting on the send's latency), and the saga still kept up with them."""
    return not any(f in SAGA_CRITERIA for f in failed)


def kept_rate(rate, achieved, failed):
    """The rate a step shows the saga keeps pace with, or None: the paced rate when it was met,
    else (rate short, or unpaced) the rate achieved."""
    if not kept_pace(failed):
        return None
    return rate if rate and "rate short" not in failed else round(achieved)


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


LADDER = (0.5, 0.6, 0.7, 0.8, 0.9)  # fractions of the unpaced step's rate, climbed in order


def keep_pace_ladder(step, refine, rates=None):
    """The highest rate the saga keeps pace with, and what stopped the search; pure logic over
    step(rate) -> (achieved rate, missed criteria), rate None meaning unpaced.

    First an unpaced step: the most sends the connections reach with the consumers running. If
    the saga keeps pace with it, that is the answer (nothing faster can be offered at this
    concurrency). Else it counts as missed at the rate it achieved, and paced rungs at LADDER
    fractions of that rate (or the rates given, without the unpaced step) are climbed to the first
    one missed. A rung that is only "rate short" kept pace at its achieved rate; it ends the climb
    when it achieved less than 5% more than the paced step before (the sends are saturated), else the
    climb goes on (wrk losing slots on a loaded machine must not stop it). When the first rung is missed already, halves below it, up to four. Then `refine`
    bisections (geometric) between the highest rate kept and the lowest missed.
    Returns {"rate": highest kept or None, "stopped_by": text, "steps": [(rate, achieved, missed)]}."""
    steps, kept, missed, missed_on, short = [], None, None, (), None

    def rung(rate):
        """True when the climb may go on: kept pace at the paced rate itself."""
        nonlocal kept, missed, missed_on, short
        achieved, failed = step(rate)
        steps.append((rate, achieved, failed))
        got = kept_rate(rate, achieved, failed)
        if got is None:
            at = rate or round(achieved)
            if missed is None or at < missed:
                missed, missed_on = at, [f for f in failed if f in SAGA_CRITERIA]
            return False
        paced_before = [a for r, a, _ in steps[:-1] if r is not None]
        gain = not paced_before or achieved >= 1.05 * paced_before[-1]
        kept = max(kept or 0, got)
        if rate is None or ("rate short" in failed and not gain):
            short = rate or "unpaced"
            return False
        return True

    if not rates:
        rung(None)
        if kept is not None:
            return {"rate": kept, "paced": False, "steps": steps,
                    "stopped_by": "sends: the saga kept pace with unpaced sends, no faster rate to offer"}
        rates = [round(missed * f) for f in LADDER]
    for rate in rates:
        if not rung(rate):
            break
    if kept is None:
        rate = rates[0]
        for _ in range(4):
            rate = max(1, round(rate / 2))
            rung(rate)
            if kept is not None or rate == 1:
                break
    for _ in range(refine if kept and missed else 0):
        mid = round(math.sqrt(kept * missed))
        if mid <= kept or mid >= missed:
            break
        rung(mid)
    if kept is None:
        stopped = "no rate kept pace (%s at %s/s)" % (", ".join(missed_on), missed)
    elif missed is not None and missed > kept:
        stopped = "%s at %d/s" % (", ".join(missed_on), missed)
    elif short is not None:
        stopped = "rate short at %s/s: the sends reached %d/s and the saga kept pace with them" % (short, kept)
    else:
        stopped = "top of the ladder kept pace"
    return {"rate": kept, "paced": True, "steps": steps, "stopped_by": stopped}


def find_keep_pace_rate(bench, probe, base, base_name, prefix=""):
    """keep_pace_ladder over saga_run steps of --saga-step s (--saga-rates: the rungs instead of
    the unpaced step's fractions), each a row of the report (ratio to base beside it)."""
    def step(rate):
        row = judge(saga_run(bench, probe, prefix + "saga step", rate, bench.args.saga_step), base_name, base)
        row["target"], row["result"] = "keeps pace (drain<=2s)", "kept" if row["kept_pace"] else "missed"
        bench.rows.append(row)
        bench.progress.say("%ssaga step %s: achieved %.0f/s, drain %s s, e2e p99 %s ms -> %s" % (
            prefix, "%d/s" % rate if rate else "unpaced", row["rps"], row["drain_s"], row["saga"]["p99_ms"],
            "kept pace" if row["kept_pace"] else "missed: " + ", ".join(row["failed"])))
        return row["rps"], row["failed"]

    rates = [round(float(r)) for r in bench.args.saga_rates.split(",")] if bench.args.saga_rates else None
    return keep_pace_ladder(step, bench.args.saga_refine, rates)


def half_rate(sustained):
    """The pace of the half-rate run: half the rate the sustained run held (its paced rate when it
    achieved 0.95 of it, else what it achieved; an unpaced run's achieved rate). A 15 s rung of
    the ladder can keep pace at a rate the 60 s run then falls short of; half of that paced rate
    would measure the latency nearer the ceiling than the target's "half the rate it keeps pace
    with"."""
    rate, achieved = sustained["target_rate"], sustained["rps"]
    held = rate if rate and achieved >= RATE_SHORT * rate else achieved
    return max(1, round(held / 2))


def area_saga(bench):
    """Keep-pace rate, sustained run at it, half-rate run for the end-to-end p99, then the reads
    that mark all those messages read (read->READ latency and drain). The sustained run is judged
    at >= 0.8 of the saga's floor (send.saga_legs), the pgbench ratio beside it."""
    c = bench.args.saga_connections
    base = bench.limits.pgbench(c)
    floor = saga_legs(bench, c)
    bench.details["saga_floor"] = floor
    probe = SagaProbe(bench.env)
    try:
        row = sustained_saga(bench, probe, "", (base, "pgbench c%d" % c))
        if row.get("rps") is None:
            row["target"] = ">=0.8x saga floor c%d" % c
            bench.add(row)
            return
        # The legs are CPU per saga of the stack's processes alone; on a shared machine the cores
        # they turn into sagas a second are those the other sessions left during this very row.
        left = 1 - (row.get("other_cpu_pct") or 0) / 100
        floor["rps_cores_left"] = saga_floor(floor["send_cpu_us"], floor["rest_cpu_us"], os.cpu_count() * left)
        bench.add(judge(row, "pgbench c%d" % c, base, 0.8, [("kept pace", row["kept_pace"])],
                        floor=("saga floor c%d" % c, floor["rps_cores_left"])))
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


def sustained_saga(bench, probe, prefix, base):
    """The keep-pace ladder, then --sustain s at the rate it found (unpaced when the saga kept pace
    with unpaced sends): the row "PREFIXsaga sustained" (the caller judges and adds it), with the criterion that stopped the ladder (stopped_by, and in its note). base:
    (rate, name) of the limit the steps' ratio is taken to."""
    ladder = find_keep_pace_rate(bench, probe, base[0], base[1], prefix)
    bench.details[prefix + "saga_keep_pace"] = ladder
    if ladder["rate"] is None:
        return {"area": "saga", "scenario": prefix + "saga sustained", "concurrency": bench.args.saga_connections,
                "rps": None, "pass": False, "stopped_by": ladder["stopped_by"], "note": ladder["stopped_by"]}
    row = saga_run(bench, probe, prefix + "saga sustained", ladder["rate"] if ladder["paced"] else None,
                   bench.args.sustain)
    row["stopped_by"] = ladder["stopped_by"]
    row["note"] += "; ladder stopped by " + ladder["stopped_by"]
    return row
