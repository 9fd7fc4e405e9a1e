"""Area search: bench/search.py per concurrency on a million users."""
from benchlib.common import REPO
from benchlib.run import users_count
from benchlib.runner import judge, measured, other_cpu_pct, per_op, run_json_command


def area_search(bench):
    """bench/search.py once per concurrency (with the meter around it) on >= ~1M users."""
    n = users_count(bench)
    if n < 950_000:
        bench.progress.say("search: %d users; generating a million (scripts/gen_data.py)" % n)
        res = run_json_command(bench, "gen_data", [str(REPO / "scripts/gen_data.py"), "--users", "1000000"],
                               label="search: scripts/gen_data.py --users 1000000")
        bench.details["gen_data"] = res
        if "error" in res:
            raise RuntimeError("gen_data.py failed: %s" % res["error"])
    search = str(REPO / "bench/search.py")
    run_json_command(bench, "search_warmup", [search, "--concurrency", "16", "--duration", "3", "--warmup", "0"],
                     3, "search: warm-up")
    for c in bench.args.concurrency:
        cmd = [search, "--concurrency", str(c), "--duration", str(bench.args.duration), "--warmup", "0"]
        res, m = measured(bench, lambda: run_json_command(bench, "search_c%d" % c, cmd, bench.args.duration,
                                                          "search: GET /user/search c=%d" % c))
        if "error" in res or not res.get("runs"):
            bench.add({"area": "search", "scenario": "GET /user/search", "concurrency": c, "rps": None,
                       "pass": False if c == 16 else None, "target": "p99<=20ms" if c == 16 else "",
                       "note": res.get("error", "no runs")})
            continue
        run = res["runs"][0]
        requests_done = run.get("requests") or round(run["rps"] * bench.args.duration)
        row = {"area": "search", "scenario": "GET /user/search", "concurrency": c, "rps": run["rps"],
               "requests": requests_done, "p50_ms": run["p50_ms"], "p99_ms": run["p99_ms"],
               "p999_ms": run.get("p999_ms"), "non2xx": run.get("non2xx", 0),
               "socket_errors": run.get("socket_errors", 0), "meter": m,
               "cpu_us_per_op": per_op(m["cpu_total_us"], requests_done),
               "wrk_cpu_us_per_op": per_op(res["loadgen_cpu_us"], requests_done),
               "other_cpu_pct": other_cpu_pct(m, res["loadgen_cpu_us"]),
               "note": "1M users; wrk CPU includes search.py"}
        ceiling = bench.limits.http.get(c, {}).get("backend_healthz_rps")
        checks = [("p99<=20ms", run["p99_ms"] <= 20)] if c == 16 else []
        bench.add(judge(row, "/healthz c%d" % c, ceiling, None, checks))
