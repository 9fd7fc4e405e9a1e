"""Area reads: GET /counters/unread and GET /dialog/{id}/list, listing without marking read."""
from concurrent.futures import ThreadPoolExecutor

import requests

import saga_metrics  # bench/saga_metrics.py
from benchlib.common import is_running, ticking
from benchlib.runner import judge, measured, run_wrk, wrk_row
from benchlib.saga_state import SagaProbe, wait_drained


def seed_dialogs(bench, pairs, per_pair):
    """per_pair messages from each sender to its recipient, 8 requests at a time."""
    base = bench.env["BACKEND_URL"]

    def send(job):
        s_id, s_tok, r_id, _ = job[0]
        r = requests.post("%s/dialog/%s/send" % (base, r_id), json={"text": "seed %d" % job[1]},
                          headers={"Authorization": "Bearer " + s_tok}, timeout=30)
        r.raise_for_status()

    jobs = [(p, i) for p in pairs for i in range(per_pair)]
    with ticking(bench, "reads: seeding %d messages" % len(jobs)), ThreadPoolExecutor(8) as pool:
        list(pool.map(send, jobs))


def list_states(bench, pair):
    """States of the messages the recipient lists in one dialog."""
    s_id, _, _, r_tok = pair
    r = requests.get("%s/dialog/%s/list" % (bench.env["BACKEND_URL"], s_id),
                     headers={"Authorization": "Bearer " + r_tok}, timeout=10)
    r.raise_for_status()
    return [m["state"] for m in r.json()]


def area_reads(bench):
    """GET /counters/unread and GET /dialog/{id}/list (100 messages, not marked read)."""
    for c in bench.args.concurrency:
        bench.limits.ceiling(c, "gateway")
    path = str(bench.work / "reads_pairs.txt")
    with ticking(bench, "reads: registering 40 users"):
        pairs = saga_metrics.make_pairs(bench.env["BACKEND_URL"], 20, path, tag="Reads")
    seed_dialogs(bench, pairs, 100)
    probe = SagaProbe(bench.env)
    try:
        wait_drained(bench, probe, "reads: drain of the seeded messages")
    finally:
        probe.close()
    copies = [n for n in ("dialogs", "dialogs-2") if is_running(n)]
    bench.progress.say("reads: restarting %s with MARK_AS_READ_ON_LISTING=0" % ", ".join(copies))
    bench.control("restart", copies, env={"MARK_AS_READ_ON_LISTING": "0"})
    try:
        list_states(bench, pairs[0])
        states = list_states(bench, pairs[0])
        if len(states) != 100 or set(states) != {"UNREAD"}:
            raise RuntimeError("reads: a listed dialog holds %d messages in states %s, want 100 UNREAD"
                               % (len(states), sorted(set(states))))
        env = {"BENCH_PAIRS": path}
        for c in bench.args.concurrency:
            w, m = measured(bench, lambda: run_wrk(bench, "unread_c%d" % c, "bench/unread.lua", c,
                                                   bench.args.duration, env, "reads: GET /counters/unread c=%d" % c))
            row = wrk_row("reads", "GET /counters/unread", c, w, m)
            checks = [("p99<=2ms", row["p99_ms"] <= 2)] if c == 16 else []
            bench.add(judge(row, "gateway c%d" % c, bench.limits.ceiling(c, "gateway"), 0.5, checks))
        for c in bench.args.concurrency:
            w, m = measured(bench, lambda: run_wrk(bench, "list_c%d" % c, "bench/list.lua", c,
                                                   bench.args.duration, env, "reads: GET /dialog/list c=%d" % c))
            bench.add(judge(wrk_row("reads", "GET /dialog/{id}/list x100", c, w, m),
                            "gateway c%d" % c, bench.limits.ceiling(c, "gateway"), 0.3))
        if set(list_states(bench, pairs[0])) != {"UNREAD"}:
            bench.progress.say("warning: reads: listing marked messages read after all")
    finally:
        bench.control("restart", copies, env={"MARK_AS_READ_ON_LISTING": ""})  # empty: not passed on
        bench.progress.say("reads: %s restarted with the default MARK_AS_READ_ON_LISTING" % ", ".join(copies))
