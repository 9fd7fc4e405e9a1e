"""Area feed: GET /post/feed warm (wrk), cold rebuilds and post -> WebSocket (scripts/bench_feed.py)."""
from benchlib.common import ticking
from benchlib.runner import judge, measured, per_op, run_wrk, wrk_row


def area_feed(bench):
    """Warm feed reads with wrk; cold rebuild and live WebSocket latency from bench_feed."""
    import bench_feed  # scripts/bench_feed.py

    for c in bench.args.concurrency:
        bench.limits.ceiling(c, "backend_healthz")
    with ticking(bench, "feed: users, follows and posts"):
        reader, authors = bench_feed.prepare()
    token = reader["Authorization"].split(" ", 1)[1]
    for c in bench.args.concurrency:
        w, m = measured(bench, lambda: run_wrk(bench, "feed_c%d" % c, "bench/feed.lua", c, bench.args.duration,
                                               {"BENCH_TOKEN": token}, "feed: GET /post/feed warm c=%d" % c))
        bench.add(judge(wrk_row("feed", "GET /post/feed warm", c, w, m),
                        "/healthz c%d" % c, bench.limits.ceiling(c, "backend_healthz"), 0.4))
    with ticking(bench, "feed: cold reads (Redis flushed)"):
        readers = bench_feed.cold_readers(authors)
        cold, m = measured(bench, lambda: bench_feed.cold(readers))
    bench.add({"area": "feed", "scenario": "GET /post/feed cold", "concurrency": cold["concurrency"],
               "rps": cold["rps"], "p50_ms": cold["p50_ms"], "p99_ms": cold["p99_ms"], "meter": m,
               "cpu_us_per_op": per_op(m["cpu_total_us"], cold["reads"]), "target": "", "pass": None,
               "note": "each read rebuilds the feed from PostgreSQL (python client, 16 threads)"})
    with ticking(bench, "feed: post -> WebSocket"):
        live = bench_feed.live()
    bench.add({"area": "feed", "scenario": "post -> WebSocket", "concurrency": 1, "rps": None,
               "p50_ms": live["p50_ms"], "p99_ms": live["p99_ms"], "target": "", "pass": None,
               "note": "%d/%d delivered" % (live["delivered"], live["posts"])})
