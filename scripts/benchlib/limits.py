"""The physical limits of the run: pgbench of the send statement, the HTTP ceilings, RabbitMQ,
and the floors built from them, which the send and the saga are judged against.

The send's floor is its two HTTP hops alone (GET /counters/ping through the gateway: wrk ->
backend -> counters, the token checked twice; bench/http_ceiling.sh) plus its statement alone
(pgbench of the send transaction; bench/pgbench_send.sh), both measured in the same run at the
same concurrency, R_hops and R_stmt per second:

    floor = 1 / (1/R_hops + 1/R_stmt)

At c1 this is latency adding up: a send is one chain, the hops take t_hops = 1/R_hops and the
statement t_stmt = 1/R_stmt one after the other, so no send is faster than t_hops + t_stmt. At
c16 and c64 the same formula holds for another reason: both limit runs keep the machine's cores
busy (wrk, pgbench and the servers share them), so each costs cores/R of CPU per operation; a
send pays both, cores/R_hops + cores/R_stmt, and the cores then give at most cores divided by that
sends a second. (Adding latencies at c16 would be wrong: 16 chains overlap; taking the slower of
the two would be wrong too: they do not run on separate cores.) What the floor leaves out is
what a send costs besides: the relay's publish to RabbitMQ and its claim and delete in
PostgreSQL, dialogs' own parsing. So 1.0 of the floor is out of reach and 0.8 is the target.

The saga's floor is the sum of its measured legs as CPU per saga (send.saga_legs): the send
alone with the consumers paused (the stack's CPU and wrk's, per send, at the saga's
concurrency) plus the rest of the saga drained after counters came back (the stack's CPU per
saga completed): floor = cores / (cpu_send + cpu_rest) sagas a second, with perfect overlap.
The legs count the stack's own processes only, so on a machine shared with other sessions the
cores are those left to the bench in the judged row's window (cores x (1 - other%); saga.py).
"""
import os

from benchlib.common import AMQP_BENCH, REPO
from benchlib.runner import limit_row, measured, run_json_command


def send_floor(r_hops, r_stmt):
    """Sends a second no send path reaches: 1 / (1/R_hops + 1/R_stmt) (see the module's text)."""
    if not r_hops or not r_stmt:
        return None
    return round(1.0 / (1.0 / r_hops + 1.0 / r_stmt), 1)


def saga_floor(cpu_send_us, cpu_rest_us, cores=None):
    """Sagas a second the cores give when a saga costs cpu_send_us + cpu_rest_us of CPU."""
    if not cpu_send_us or not cpu_rest_us:
        return None
    return round((cores or os.cpu_count()) * 1e6 / (cpu_send_us + cpu_rest_us), 1)


class Limits:
    """The physical limits of this run, each measured once, when first needed."""

    def __init__(self, bench):
        self.bench = bench
        self.pg, self.http, self.amqp_result = {}, {}, None
        self.floors = {}

    def pgbench(self, c):
        """pgbench_send tps at c clients (bench/pgbench_send.sh), or None."""
        if c not in self.pg:
            b = self.bench
            cmd = [str(REPO / "bench/pgbench_send.sh"), "--clients", str(c), "--seconds", str(b.args.duration)]
            res, meter = measured(b, lambda: run_json_command(b, "limit_pgbench_c%d" % c, cmd, b.args.duration,
                                                              "limits: pgbench send tx c=%d" % c))
            self.pg[c] = res
            b.add(limit_row("limit pgbench send tx", c, res.get("tps"), res.get("latency_p50_ms"),
                            res.get("latency_p99_ms"), meter, res.get("transactions"), res.get("loadgen_cpu_us", 0),
                            res.get("error", "PostgreSQL CPU per tx")))
        return self.pg[c].get("tps")

    def ceiling(self, c, key):
        """http_ceiling rps at concurrency c; key: backend_healthz, counters_direct or gateway."""
        if c not in self.http:
            b = self.bench
            cmd = [str(REPO / "bench/http_ceiling.sh"), "--concurrency", str(c), "--seconds", str(b.args.duration)]
            res, meter = measured(b, lambda: run_json_command(b, "limit_http_c%d" % c, cmd, 3 * b.args.duration,
                                                              "limits: http ceiling c=%d (3 targets)" % c))
            self.http[c] = res
            for k, title in (("backend_healthz", "limit http backend /healthz"),
                             ("counters_direct", "limit http ping direct"),
                             ("gateway", "limit http ping via gateway")):
                b.add(limit_row(title, c, res.get(k + "_rps"), res.get(k + "_p50_ms"), res.get(k + "_p99_ms"),
                                meter, None, res.get("loadgen_cpu_us", 0), res.get("error", "")))
        return self.http[c].get(key + "_rps")

    def send_floor(self, c):
        """The send's floor at c (two hops + the statement, measured now if not yet); a limit row."""
        if c not in self.floors:
            hops, stmt = self.ceiling(c, "gateway"), self.pgbench(c)
            floor = send_floor(hops, stmt)
            self.floors[c] = {"rps": floor, "hops_rps": hops, "statement_tps": stmt,
                              "formula": "1/(1/hops + 1/statement)",
                              "reading": "latencies add" if c == 1 else "CPU costs add (cores busy)"}
            self.bench.add(limit_row("floor send: 2 hops + statement", c, floor,
                                     note="1/(1/%s + 1/%s): %s" % (hops, stmt, self.floors[c]["reading"])))
        return self.floors[c]["rps"]

    def amqp(self):
        """amqp_bench's result (publish/consume/both rates, latency)."""
        if self.amqp_result is None:
            b = self.bench
            res, meter = measured(b, lambda: run_json_command(b, "limit_amqp", [AMQP_BENCH, "--seconds",
                                                                                 str(b.args.duration)],
                                                              4 * b.args.duration, "limits: amqp_bench"))
            self.amqp_result = res
            err, gen = res.get("error", ""), res.get("loadgen_cpu_us", 0)
            b.add(limit_row("limit amqp publish+confirm", None, res.get("publish_per_s"), None, None, meter, None,
                            gen, err))
            b.add(limit_row("limit amqp consume+ack", None, res.get("consume_per_s"), None, None, meter, None,
                            gen, err))
            b.add(limit_row("limit amqp both at once", None, res.get("both_per_s"), res.get("latency_p50_ms"),
                            res.get("latency_p99_ms"), meter, None, gen, err or "latency publish->consume"))
        return self.amqp_result


def area_limits(bench):
    """Every limit at every concurrency: pgbench send tx, the HTTP ceilings, RabbitMQ."""
    for c in bench.args.concurrency:
        bench.limits.pgbench(c)
    for c in bench.args.concurrency:
        bench.limits.ceiling(c, "gateway")
    bench.limits.amqp()
