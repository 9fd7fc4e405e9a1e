"""Area send: POST /dialog/{id}/send alone, the saga consumers paused, then the drain."""
import time

import saga_metrics  # bench/saga_metrics.py
from benchlib.common import is_running
from benchlib.meter import Meter
from benchlib.runner import judge, measured, per_op, run_wrk, wrk_row
from benchlib.saga_state import SagaProbe, wait_drained


def area_send(bench):
    """The send path alone, saga consumers paused; then the drain once counters is back."""
    pairs = bench.pairs()
    for c in bench.args.concurrency:
        bench.limits.pgbench(c)
    probe = SagaProbe(bench.env)
    try:
        wait_drained(bench, probe, "send: waiting for a quiet saga before")
        consumers = [n for n in ("counters", "counters-2") if is_running(n)]
        bench.progress.say("send: stopping %s (the saga consumers); dialogs keeps publishing" % ", ".join(consumers))
        bench.control("stop", consumers)
        try:
            for c in bench.args.concurrency:
                w, meter = measured(bench, lambda: run_wrk(bench, "send_c%d" % c, "bench/send.lua", c,
                                                           bench.args.duration, {"BENCH_PAIRS": pairs},
                                                           "send (consumers paused) c=%d" % c))
                bench.add(judge(wrk_row("send", "send, consumers paused", c, w, meter),
                                "pgbench c%d" % c, bench.limits.pgbench(c), 0.8))
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
        bench.add(row)
    finally:
        probe.close()
