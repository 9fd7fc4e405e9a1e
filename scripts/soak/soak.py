#!/usr/bin/python3
"""Soak with random faults (docs/hardening.md): mixed traffic at about half of the sustained
capacity while a fault strikes every GAP seconds, then the saga's invariants and the run's figures.

  scripts/soak/soak.py [--minutes 10] [--seed N] [--gap-min 12 --gap-max 20] [--rate R] [--out DIR]

Needs the stack up (scripts/stack up, ports from the environment); starts the second copies
(backend-2, dialogs-2, counters-2) itself and stops them at the end. Prints, and writes to
DIR/summary.json: messages accepted, lost, double-counted, stuck, drift, 5xx (and requests with no
answer) outside the fault windows, each service's RSS and open fds at start and end, p50/p99 per
interval, and DIR/soak.png (throughput and latency with the faults marked). Exit 1 if an invariant
fails. Bounded: traffic stops at --minutes, every wait has a limit."""
import argparse
import os
import random
import shlex
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The stack's coordinates (ports, DSNs) before saga_helpers reads them, unless the caller set them.
for line in subprocess.run([str(HERE.parents[1] / "scripts" / "stack"), "env"], capture_output=True, text=True,
                           timeout=60).stdout.splitlines():
    for pair in shlex.split(line)[1:]:
        key, _, value = pair.partition("=")
        os.environ.setdefault(key, value)
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "tests" / "e2e"))

import faults  # noqa: E402
import report  # noqa: E402
import traffic  # noqa: E402
from saga_helpers import PORTS, new_chat_user, stack, stored_sends, wait_quiet  # noqa: E402

COPIES = ("backend-2", "dialogs-2", "counters-2")


def new_user(base):
    return new_chat_user(base, "soak")


def calibrate(users, base_urls, prefix, seconds, procs, threads):
    """Requests per second the stack sustains with this mix, unpaced, from procs x threads clients."""
    t = traffic.Traffic(procs, users=users, base_urls=base_urls, rate=1e6 * threads, threads=threads,
                        live_clients=0, seed=1, prefix=f"{prefix}-cal", register=new_user).start()
    time.sleep(seconds)
    rec = t.finish()
    return sum(1 for s in rec.samples if s[0] < seconds) / seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 10)))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--gap-min", type=float, default=12.0)
    ap.add_argument("--gap-max", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=None, help="requests/s (default: half of the calibrated rate)")
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--procs", type=int, default=3, help="client processes")
    ap.add_argument("--threads", type=int, default=8, help="paced clients per process")
    ap.add_argument("--live-clients", type=int, default=2, help="WebSocket clients per process")
    ap.add_argument("--out", default=str(HERE.parents[1] / "results" / "soak"))
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    prefix = f"soak-{run}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"soak: seed {seed} (repeat the faults with --seed {seed}), run {run}, {args.minutes} min, "
          f"a fault every {args.gap_min:g}-{args.gap_max:g} s", flush=True)

    for name in COPIES:
        stack("start", name, timeout=240)
    if faults.wait_all_ready(120) is None:
        print("soak: the stack is not ready", file=sys.stderr)
        return 1
    base_urls = [f"http://127.0.0.1:{PORTS['backend']}", f"http://127.0.0.1:{PORTS['backend-2']}"]
    users = [new_chat_user(base_urls[i % 2], "soak") for i in range(args.users)]
    for i, u in enumerate(users):  # everyone follows a few others, so posts reach feeds and live clients
        for peer in rng.sample(users[:i] + users[i + 1:], 3):
            u.http.put(f"{u.base_url}/friend/set/{peer.id}", headers=u.headers, timeout=30)

    capacity = calibrate(users, base_urls, prefix, 15, args.procs, args.threads)
    rate = args.rate or max(20.0, capacity / 2)
    print(f"soak: calibrated {capacity:.0f} requests/s unpaced from {args.procs}x{args.threads} clients; "
          f"pacing at {rate:.0f}/s", flush=True)
    wait_quiet(180)  # the calibration's sagas settle before the run starts counting

    stop = threading.Event()
    resources_start = report.resources()
    load = traffic.Traffic(args.procs, users=users, base_urls=base_urls, rate=rate / args.procs,
                           threads=args.threads, live_clients=args.live_clients, seed=seed, prefix=prefix,
                           register=new_user).start()
    rec = load.rec
    injector = faults.Injector(rng, args.gap_min, args.gap_max, rec.t0, stop)
    injector.start()
    end_at = time.monotonic() + args.minutes * 60
    while time.monotonic() < end_at and injector.is_alive():
        time.sleep(1)
    stop.set()
    load.finish()
    injector.join(timeout=300)
    duration = time.monotonic() - rec.t0

    # The invariants, once everything is back and the sweeper had its chance at anything stuck.
    problems = []
    if injector.error:
        problems.append(injector.error)
    recovered = faults.wait_all_ready()
    resources_end = report.resources()
    quiet = None
    try:
        quiet = wait_quiet(240)
    except AssertionError as e:
        problems.append(str(e))
    _, check = report.sagactl_check()
    sends = stored_sends(f"{prefix}-%", rec.ok_ids, rec.ambiguous)
    summary = report.summarize(rec, injector, duration, seed, rate, capacity, sends, check, resources_start,
                               resources_end)
    summary["recovered_at_end"] = recovered is not None
    problems += report.invariant_failures(summary)
    for name in COPIES:
        stack("stop", name, check=False)
    report.write(summary, rec, injector, out)
    report.print_summary(summary)
    if problems:
        print("soak: FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("soak: all invariants hold")
    return 0 if quiet is not None else 1


if __name__ == "__main__":
    sys.exit(main())
