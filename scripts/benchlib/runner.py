"""Load runs (wrk and the baseline commands, with the meter around them) and the rows they give."""
import json
import os
import shutil
import subprocess
from pathlib import Path

from benchlib.common import REPO, ticking
from benchlib.meter import Meter


def run_wrk(bench, name, lua, concurrency, seconds, env=None, label=None, extra=None):
    """wrk -t min(2,C) -cC -dS --latency -s LUA against the backend; its BENCH_JSON as a dict
    plus wrk_cpu_us (wrk's own CPU). Raw output in the run's folder as NAME.wrk."""
    threads = min(2, concurrency)
    cmd = ["wrk", "-t%d" % threads, "-c%d" % concurrency, "-d%ds" % seconds, "--timeout", "10s",
           "--latency", "-s", lua, bench.env["BACKEND_URL"]]
    wenv = dict(os.environ, BENCH_THREADS=str(threads), **(env or {}))
    path = bench.work / (name + ".wrk")
    with open(path, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=wenv)
    _, usage = wait_ticking(bench, proc, label or name, seconds, extra)
    text = path.read_text()
    line = next((l for l in text.splitlines() if l.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError("wrk failed (%s): %s" % (name, text[-600:]))
    result = json.loads(line[len("BENCH_JSON "):])
    result["wrk_cpu_us"] = round((usage.ru_utime + usage.ru_stime) * 1e6)
    return result


def wait_ticking(bench, proc, label, seconds, extra=None):
    """Wait for proc with the progress line ticking; (its stdout if piped, else None; its rusage).
    Terminated if the wait is interrupted."""
    stdout = None
    try:
        with ticking(bench, label, seconds, extra):
            if proc.stdout is not None:
                stdout = proc.stdout.read()
            _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if proc.returncode is None:
            proc.terminate()
            proc.wait()
    return stdout, usage


def run_json_command(bench, name, cmd, seconds=None, label=None):
    """Run a baseline/benchmark command (stderr to NAME.log); its last stdout line as JSON plus
    loadgen_cpu_us (its CPU and its children's). {"error": ...} when it failed or is missing."""
    if not Path(cmd[0]).exists() and not shutil.which(cmd[0]):
        return {"error": "missing: %s" % cmd[0]}
    with open(bench.work / (name + ".log"), "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
        stdout, usage = wait_ticking(bench, proc, label or name, seconds)
    (bench.work / (name + ".out")).write_text(stdout)
    lines = [l for l in stdout.splitlines() if l.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        result = {"error": "no JSON last line (exit %s); see %s.log" % (proc.returncode, name)}
    if proc.returncode != 0 and "error" not in result:
        result["error"] = "exit %d; see %s.log" % (proc.returncode, name)
    result["loadgen_cpu_us"] = round((usage.ru_utime + usage.ru_stime) * 1e6)
    return result


def measured(bench, body):
    """(body(), Meter result) with the meter around the body."""
    meter = Meter(bench.roots).start()
    value = body()
    return value, meter.stop()


def per_op(total, ops):
    return round(total / ops, 1) if total is not None and ops else None


def other_cpu_pct(meter, loadgen_us):
    """CPU the machine spent outside the stack and the load generator during the window (other
    sessions, bench.py itself), in % of all cores: the noise under the figure."""
    if not meter.get("machine_total_us"):
        return None
    other = meter["machine_busy_us"] - meter["cpu_total_us"] - loadgen_us
    return round(max(0.0, 100.0 * other / meter["machine_total_us"]), 1)


def wrk_row(area, scenario, concurrency, w, meter, ops=None):
    """A report row from a wrk result and its meter; ops (default: requests) divides the CPU."""
    seconds = w["duration_us"] / 1e6
    ops = w["requests"] if ops is None else ops
    return {"area": area, "scenario": scenario, "concurrency": concurrency,
            "requests": w["requests"], "seconds": round(seconds, 2),
            "rps": round(w["requests"] / seconds, 1) if seconds else None,
            "p50_ms": w["p50_us"] / 1000, "p99_ms": w["p99_us"] / 1000, "p999_ms": w["p999_us"] / 1000,
            "max_ms": w["max_us"] / 1000, "non2xx": w["non2xx"],
            "socket_errors": w["connect_err"] + w["read_err"] + w["write_err"] + w["timeouts"],
            "cpu_us_per_op": per_op(meter["cpu_total_us"], ops),
            "wrk_cpu_us_per_op": per_op(w["wrk_cpu_us"], w["requests"]), "meter": meter,
            "other_cpu_pct": other_cpu_pct(meter, w["wrk_cpu_us"])}


def judge(row, limit_name, limit_value, factor=None, checks=(), floor=None):
    """Set ratio (row req/s over the limit), target text and PASS/MISS. factor: the minimum ratio;
    checks: more (text, ok) conditions. No target at all: pass stays None. floor: (name, value)
    of the floor the row is judged against (limits.py): factor then applies to floor_ratio, and
    the ratio to the limit is only printed beside it."""
    row["limit"] = {"name": limit_name, "value": limit_value}
    row["ratio"] = round(row["rps"] / limit_value, 3) if limit_value and row.get("rps") else None
    judged, judged_name = row["ratio"], limit_name
    if floor is not None:
        judged_name, value = floor
        row["floor"] = {"name": judged_name, "value": value}
        row["floor_ratio"] = judged = round(row["rps"] / value, 3) if value and row.get("rps") else None
    texts, oks = [], []
    if factor is not None:
        texts.append(">=%gx %s" % (factor, judged_name))
        oks.append(judged is not None and judged >= factor)
    for text, ok in checks:
        texts.append(text)
        oks.append(bool(ok))
    if row.get("non2xx") or row.get("socket_errors"):
        texts.append("no errors")
        oks.append(False)
    row["target"] = ", ".join(texts)
    row["pass"] = all(oks) if oks else None
    return row


def limit_row(scenario, concurrency, rps, p50=None, p99=None, meter=None, ops=None, loadgen_us=0, note=""):
    """A row for a measured limit (no target)."""
    return {"area": "limits", "scenario": scenario, "concurrency": concurrency, "rps": rps,
            "p50_ms": p50, "p99_ms": p99, "p999_ms": None, "pass": None, "target": "", "note": note,
            "cpu_us_per_op": per_op(meter["cpu_total_us"], ops) if meter else None, "meter": meter,
            "other_cpu_pct": other_cpu_pct(meter, loadgen_us) if meter else None}
