"""The report: the table on stdout, results/bench_<UTC>.json and the gnuplot PNG."""
import json
import os
import shutil
import subprocess

from benchlib.common import REPO, RSS_LIMIT_MIB


def fmt(v, nd=1):
    if v is None or v == "":
        return "-"
    if isinstance(v, float):
        return ("%." + str(nd) + "f") % v
    return str(v)


def peak_rss(bench):
    """{"windows": highest VmHWM of each service over the measured windows, "run": highest
    sampled VmRSS over the whole run, set-up included, "max": the higher of the two}."""
    windows = {}
    for row in bench.rows:
        for name, mib in ((row.get("meter") or {}).get("rss_peak_mib") or {}).items():
            windows[name] = max(windows.get(name, 0), mib)
    run = bench.rss_watch.stop()
    names = sorted(set(windows) | set(run))
    return {"windows": windows, "run": run,
            "max": {n: max(windows.get(n, 0), run.get(n, 0)) for n in names}}


def print_table(bench, peaks):
    """The summary table on stdout."""
    cols = [("scenario", 30), ("c", 3), ("req/s", 9), ("p50 ms", 7), ("p99 ms", 7), ("p99.9", 7),
            ("CPU us/op", 9), ("wrk us/op", 9), ("RSS MiB", 7), ("other%", 6), ("ratio", 6), ("floor", 6), ("target", 34),
            ("result", 6)]
    print(" ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(cols)) + "  note")
    for r in bench.rows:
        rss = {} if r["area"] == "limits" else (r.get("meter") or {}).get("rss_peak_mib") or {}
        cells = [r["scenario"][:30], fmt(r.get("concurrency")), fmt(r.get("rps"), 0), fmt(r.get("p50_ms"), 2),
                 fmt(r.get("p99_ms"), 2), fmt(r.get("p999_ms"), 2), fmt(r.get("cpu_us_per_op"), 0),
                 fmt(r.get("wrk_cpu_us_per_op"), 0), fmt(max(rss.values()) if rss else None),
                 fmt(r.get("other_cpu_pct"), 0) + ("!" if (r.get("meter") or {}).get("foreign_load") else ""),
                 fmt(r.get("ratio"), 2), fmt(r.get("floor_ratio"), 2), r.get("target") or "",
                 r.get("result") or {True: "PASS", False: "MISS", None: ""}[r.get("pass")]]
        print(" ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, (_, w)) in enumerate(zip(cells, cols)))
              + "  " + (r.get("note") or ""))
    print("CPU us/op: every process of the stack per request (saga rows: per completed saga, load + drain); "
          "wrk us/op: the load generator's;\nRSS MiB: the highest service peak in the window; other%: CPU used "
          "outside the stack and wrk meanwhile (other sessions on the machine), in % of all cores;\n"
          "!: somebody else's wrk/pgbench/amqp_bench was running too (it may have loaded this very stack);\n"
          "ratio: req/s over the row's limit (send and saga: pgbench); floor: over the floor the row is judged "
          "against (send: 2 hops + statement, saga: its legs; benchlib/limits.py).")
    print()
    print("%-12s %22s %30s  target < %d MiB" % ("peak RSS MiB", "in measured windows", "whole run, set-up included",
                                               RSS_LIMIT_MIB))
    for name, v in peaks["max"].items():
        print("%-12s %22s %30s  %s" % (name, fmt(peaks["windows"].get(name)), fmt(peaks["run"].get(name)),
                                       "PASS" if v < RSS_LIMIT_MIB else "MISS"))
    sustained = next((r for r in bench.rows if r["scenario"] == "saga sustained" and r.get("meter")), None)
    if sustained:
        print("CPU per completed saga (sustained run, load + drain, all processes): %s us; wrk %s us per send"
              % (fmt(sustained["cpu_us_per_op"], 0), fmt(sustained["wrk_cpu_us_per_op"], 0)))


def write_json(bench, peaks, path):
    """Everything: options, limits' raw results, every row with its meter and details."""
    data = {"timestamp": bench.ts, "git": git_head(), "cores": os.cpu_count(),
            "args": {k: v for k, v in vars(bench.args).items()},
            "limits": {"pgbench_send": bench.limits.pg, "http_ceiling": bench.limits.http,
                       "amqp": bench.limits.amqp_result, "send_floor": bench.limits.floors},
            "rows": bench.rows, "details": bench.details,
            "peak_rss_mib": peaks, "rss_target_mib": RSS_LIMIT_MIB,
            "note": "wrk, the limits and the stack share this machine's cores"}
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")


def git_head():
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or None


def plot_series(bench):
    """[(title, is_limit, [(c, rps, p99)])] for the concurrency plots."""
    series = {}
    for r in bench.rows:
        if r.get("concurrency") and r.get("rps") and r["scenario"] not in ("saga step",):
            key = r["scenario"]
            series.setdefault(key, []).append((r["concurrency"], r["rps"], r.get("p99_ms")))
    return [(k, k.startswith("limit "), sorted(v)) for k, v in series.items()]


PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#000000", "#393b79", "#637939", "#843c39", "#7b4173", "#3182bd")


def write_plot(bench, png):
    """Two panels: req/s and p99 against concurrency (log-log), limits dashed."""
    series = plot_series(bench)
    if not series or not shutil.which("gnuplot"):
        return None
    dat = bench.work / "plot.dat"
    with open(dat, "w") as f:
        for title, _, points in series:
            f.write("# %s\n" % title)
            for c, rps, p99 in points:
                f.write("%d %s %s\n" % (c, rps, p99 if p99 is not None else "NaN"))
            f.write("\n\n")

    def plots(column):
        return ", ".join("'%s' index %d using 1:%d with linespoints lw 2 lc rgb '%s' %s title '%s'" % (
            dat, i, column, PALETTE[i % len(PALETTE)], "dt 2 pt 6" if limit else "dt 1 pt 7",
            title.replace("'", "").replace("limit ", "limit: ")) for i, (title, limit, _) in enumerate(series))

    script = "\n".join([
        "set terminal pngcairo size 1800,750 font ',10' noenhanced",
        "set output '%s'" % png,
        "set multiplot layout 1,2 title 'bench %s (%s, %d cores): dashed = limits measured in the same run'"
        % (bench.ts, git_head(), os.cpu_count()),
        "set logscale xy", "set xrange [0.8:80]", "set xtics (1, 4, 16, 64)", "set grid",
        "set xlabel 'concurrency (wrk connections)'", "unset key",
        "set ylabel 'req/s'", "set title 'throughput'", "plot " + plots(2),
        "set key outside right top vertical font ',9'",
        "set ylabel 'p99 latency, ms'", "set title 'p99 latency'", "plot " + plots(3),
        "unset multiplot"])
    (bench.work / "plot.gp").write_text(script + "\n")
    out = subprocess.run(["gnuplot", str(bench.work / "plot.gp")], capture_output=True, text=True)
    if out.returncode != 0:
        bench.progress.say("warning: gnuplot failed: %s" % out.stderr[-400:])
        return None
    return png


def report(bench):
    peaks = peak_rss(bench)
    print_table(bench, peaks)
    path = bench.out / ("bench_%s.json" % bench.ts)
    write_json(bench, peaks, path)
    png = None if bench.args.no_plot else write_plot(bench, bench.out / ("bench_%s.png" % bench.ts))
    print("\nwrote %s%s (raw outputs in %s/)" % (path, " and %s" % png if png else "", bench.work))
