"""The soak's figures and invariants (scripts/soak/soak.py): resources per service, sagactl check,
the summary, the checks that fail the run, and the JSON, data and PNG it leaves in --out."""
import json
import os
import subprocess

from faults import SERVICES
from saga_helpers import component_states, dialogs_q, sagactl

INTERVAL = 30   # seconds per row of the printed table
PLOT_BUCKET = 5  # seconds per point of the plot


def resources():
    """{service: {pid, rss_mb, fds}} of every service copy now."""
    out = {}
    for name, (state, pid) in component_states().items():
        if name not in SERVICES or state != "RUNNING" or not pid:
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            out[name] = {"pid": int(pid), "rss_mb": round(rss / 1024, 1), "fds": len(os.listdir(f"/proc/{pid}/fd"))}
        except (OSError, StopIteration):
            out[name] = {"pid": int(pid), "rss_mb": None, "fds": None}
    return out


def sagactl_check():
    return sagactl("check")


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def buckets(samples, width, duration):
    rows = []
    for start in range(0, int(duration) + 1, width):
        inside = [s for s in samples if start <= s[0] < start + width]
        lat = sorted(s[1] for s in inside if s[3] is not None)
        rows.append({"t": start, "rps": len(inside) / width,
                     "sends_per_s": sum(1 for s in inside if s[2] == "send" and s[3] == 200) / width,
                     "p50_ms": None if not lat else round(percentile(lat, 0.50) * 1000, 1),
                     "p99_ms": None if not lat else round(percentile(lat, 0.99) * 1000, 1),
                     "errors": sum(1 for s in inside if s[3] is None or s[3] >= 500)})
    return rows


def summarize(rec, injector, duration, seed, rate, capacity, sends, check, res_start, res_end):
    samples = list(rec.samples)
    outside = [s for s in samples if not injector.in_window(s[0]) and not injector.in_window(s[0] + s[1])]
    by_status = {}
    for s in samples:
        key = f"{s[2]}:{'none' if s[3] is None else s[3]}"
        by_status[key] = by_status.get(key, 0) + 1
    stuck = dialogs_q("SELECT count(*) FROM messages WHERE state IN ('PENDING_UNREAD', 'PENDING_READ')")[0][0]
    drift = check.get("drift", []) if isinstance(check, dict) else ["sagactl check gave no report"]
    kinds = {}
    for f in injector.faults:
        kind = f["name"].split(":")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "seed": seed, "minutes": round(duration / 60, 2), "rate_paced": round(rate), "capacity_calibrated": round(capacity),
        "requests": len(samples), "messages_accepted": len(rec.ok_ids), "messages_stored": sends["stored"],
        "lost": len(sends["lost"]), "double_counted": len(sends["unexplained"]),
        "duplicates_from_client_retries": sends["extra"], "stuck": stuck, "drift": len(drift),
        "faults": len(injector.faults), "faults_by_kind": kinds,
        "fault_windows_s": round(sum(f["end"] - f["start"] for f in injector.faults), 1),
        "5xx_outside_windows": sum(1 for s in outside if s[3] is not None and s[3] >= 500),
        "no_answer_outside_windows": sum(1 for s in outside if s[3] is None),
        "5xx_inside_windows": sum(1 for s in samples if s[3] is not None and s[3] >= 500) -
        sum(1 for s in outside if s[3] is not None and s[3] >= 500),
        "websocket_messages": rec.ws_messages, "websocket_connects": rec.ws_connects,
        "outside_failures_sample": [list(s) for s in outside if s[3] is None or s[3] >= 500][:10],
        "by_op_status": dict(sorted(by_status.items())),
        "resources_start": res_start, "resources_end": res_end,
        "intervals": buckets(samples, INTERVAL, duration),
        "fault_log": injector.faults,
    }


def invariant_failures(s):
    problems = []
    for key in ("lost", "double_counted", "stuck", "drift", "5xx_outside_windows", "no_answer_outside_windows"):
        if s[key]:
            problems.append(f"{key} = {s[key]}")
    if not s["messages_accepted"]:
        problems.append("no message was accepted")
    if not s["recovered_at_end"]:
        problems.append("the stack was not ready at the end")
    return problems


def print_summary(s):
    print(f"\nsoak: {s['minutes']} min, seed {s['seed']}, paced at {s['rate_paced']} req/s "
          f"(calibrated {s['capacity_calibrated']}), {s['requests']} requests")
    print(f"  messages accepted {s['messages_accepted']}, lost {s['lost']}, double-counted {s['double_counted']}, "
          f"stuck {s['stuck']}, drift {s['drift']} (retry duplicates {s['duplicates_from_client_retries']})")
    print(f"  faults {s['faults']} {s['faults_by_kind']}, {s['fault_windows_s']} s inside windows")
    print(f"  5xx outside windows {s['5xx_outside_windows']}, no answer outside windows "
          f"{s['no_answer_outside_windows']}, 5xx inside windows {s['5xx_inside_windows']}")
    print(f"  websocket: {s['websocket_messages']} messages, {s['websocket_connects']} connects")
    print("  service      pid start  RSS MB  fds  |  pid end  RSS MB  fds")
    for name in SERVICES:
        a, b = s["resources_start"].get(name, {}), s["resources_end"].get(name, {})
        print(f"  {name:11s} {a.get('pid', '-'):>9} {a.get('rss_mb', '-'):>7} {a.get('fds', '-'):>4}  | "
              f"{b.get('pid', '-'):>7} {b.get('rss_mb', '-'):>7} {b.get('fds', '-'):>4}")
    print("  t(s)   req/s  sends/s   p50 ms   p99 ms  errors")
    for row in s["intervals"]:
        print(f"  {row['t']:4d} {row['rps']:7.1f} {row['sends_per_s']:8.1f} {row['p50_ms'] or '-':>8} "
              f"{row['p99_ms'] or '-':>8} {row['errors']:7d}")


def write(summary, rec, injector, out):
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    rows = buckets(list(rec.samples), PLOT_BUCKET, summary["minutes"] * 60)
    with open(out / "series.dat", "w") as f:
        for r in rows:
            f.write(f"{r['t']} {r['rps']:.1f} {r['sends_per_s']:.1f} {r['p50_ms'] or 'NaN'} {r['p99_ms'] or 'NaN'}\n")
    rects = "\n".join(f"set object {i + 1} rect from {f['start']:.1f}, graph 0 to {f['end']:.1f}, graph 1 "
                      f"fc rgb '#f4c7c3' fs solid 0.5 noborder behind"
                      for i, f in enumerate(injector.faults))
    labels = "\n".join(f"set label {i + 1} '{f['name'].replace('-service', '')}' at {f['start']:.1f}, graph 0.98 "
                       f"rotate by 90 right font ',7'" for i, f in enumerate(injector.faults))
    script = f"""set terminal pngcairo size 1400,800
set output '{out / "soak.png"}'
set lmargin 10
set rmargin 4
set xrange [0:{summary["minutes"] * 60:.0f}]
set key outside right top horizontal
set multiplot layout 2,1 title 'soak: seed {summary["seed"]}, {summary["faults"]} faults (shaded: fault windows)'
{rects}
{labels}
set ylabel 'per second'
set xlabel 'seconds'
plot '{out / "series.dat"}' using 1:2 with lines title 'requests', '' using 1:3 with lines title 'sends accepted'
unset label
set ylabel 'latency ms'
set logscale y
plot '{out / "series.dat"}' using 1:4 with lines title 'p50', '' using 1:5 with lines title 'p99'
unset multiplot
"""
    (out / "soak.gp").write_text(script)
    p = subprocess.run(["gnuplot", str(out / "soak.gp")], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        print(f"soak: gnuplot failed: {p.stderr[:300]}")
    else:
        print(f"soak: wrote {out / 'soak.png'} and {out / 'summary.json'}")
