"""The physical limits of the run: pgbench of the send statement, the HTTP ceilings, RabbitMQ."""
from benchlib.common import AMQP_BENCH, REPO
from benchlib.runner import limit_row, measured, run_json_command


class Limits:
    """The physical limits of this run, each measured once, when first needed."""

    def __init__(self, bench):
        self.bench = bench
        self.pg, self.http, self.amqp_result = {}, {}, None

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
