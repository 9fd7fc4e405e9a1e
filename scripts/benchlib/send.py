"""Area send: POST /dialog/{id}/send alone, the saga consumers paused, then the drain. Its rows
are also the saga's measured legs (saga_legs), from which the saga's floor is built."""
import time

import saga_metrics  # bench/saga_metrics.py
from benchlib.common import is_running
from benchlib.limits import saga_floor
from benchlib.meter import Meter
from benchlib.runner import judge, measured, per_op, run_wrk, wrk_row
from benchlib.saga_state import SagaProbe, wait_drained


def area_send(bench):
    """The send path alone at every --concurrency, then the drain once counters is back."""
    measure_paused(bench, bench.args.concurrency)


def measure_paused(bench, concurrencies):
    """Sends at each concurrency with counters (and counters-2) stopped, judged against the send's
    floor (the pgbench ratio beside it); then counters starts again and the drain is timed until
    `sagactl check` passes. The rows are kept in bench.legs for the saga's floor."""
    pairs = bench.pairs()
    for c in concurrencies:
        bench.limits.send_floor(c)
    probe = SagaProbe(bench.env)
    try:
        wait_drained(bench, probe, "send: waiting for a quiet saga before")
        consumers = [n for n in ("counters", "counters-2") if is_running(n)]
        bench.progress.say("send: stopping %s (the saga consumers); dialogs keeps publishing" % ", ".join(consumers))
        bench.control("stop", consumers)
        try:
            for c in concurrencies:
                w, meter = measured(bench, lambda: run_wrk(bench, "send_c%d" % c, "bench/send.lua", c,
                                                           bench.args.duration, {"BENCH_PAIRS": pairs},
                                                           "send (consumers paused) c=%d" % c))
                row = judge(wrk_row("send", "send, consumers paused", c, w, meter), "pgbench c%d" % c,
                            bench.limits.pgbench(c), 0.8, floor=("floor c%d" % c, bench.limits.send_floor(c)))
                bench.legs["send"][c] = bench.add(row)
        except BaseException:
            bench.control("start", consumers)
            raise
        # The drain counts from `scripts/stack start counters`: its consumer works before it is ready.
        backlog = probe.snapshot()
        before = saga_metrics.scrape(bench.dialogs_metrics())
        meter = Meter(bench.roots).start()
        t0 = time.monotonic()
        bench.control("start", consumers)
        startup = time.monotonic() - t0
        rest = wait_drained(bench, probe, "send: drain of %d sagas" % backlog["pending"])
        m = meter.stop()
        drain = None if rest is None else round(startup + rest, 2)
        done = saga_metrics.histogram_delta(before, saga_metrics.scrape(bench.dialogs_metrics()),
                                            "saga_send_to_unread_seconds")["count"]
        row = {"area": "send", "scenario": "send: drain after restart", "concurrency": None,
               "rps": round(done / drain, 1) if drain else None, "drain_s": drain, "backlog": backlog,
               "counters_startup_s": round(startup, 2), "sagas_completed": done,
               "cpu_us_per_op": per_op(m["cpu_total_us"], done), "meter": m, "target": "", "pass": None,
               "note": "%d PENDING drained %s s after `stack start counters` (ready after %.1f s); "
                       "req/s = sagas/s, CPU per saga" % (backlog["pending"], drain, startup)}
        bench.legs["drain"] = bench.add(row)
    finally:
        probe.close()


def saga_legs(bench, c):
    """The saga's floor at concurrency c from its measured legs (measured now when the send area
    did not): {"rps", "send_cpu_us" (stack + wrk per send, consumers paused), "rest_cpu_us"
    (stack per saga drained)}; rps None when a leg has no figure."""
    if c not in bench.legs["send"] or bench.legs["drain"] is None:
        measure_paused(bench, [c])
    send, drain = bench.legs["send"][c], bench.legs["drain"]
    send_cpu = None
    if send.get("cpu_us_per_op") is not None:
        send_cpu = send["cpu_us_per_op"] + (send.get("wrk_cpu_us_per_op") or 0)
    rest_cpu = drain.get("cpu_us_per_op")
    return {"rps": saga_floor(send_cpu, rest_cpu), "send_cpu_us": send_cpu, "rest_cpu_us": rest_cpu}
