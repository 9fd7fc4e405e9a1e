"""Area cluster: the price of replication and the unavailability window of each fault.

On the single-node profile and then on the cluster profile (deploy/cluster.topology, or the
CLUSTER_TOPOLOGY the env names), in the same run: the send at c16 with everything running
(unpaced, --duration s, then its drain) and the sustained saga (the keep-pace ladder and
--sustain s at its rate; the saga area's row when it ran). The cluster's rows carry their ratio
to the single profile's. On one machine every replica shares the same two cores: three RabbitMQ
nodes, two PostgreSQL with synchronous replication and two copies of each service cost CPU that
separate hosts would each bring their own of, so the ratio is a floor of the price, not what a
deployment on several machines shows.

Then tests/cluster/test_faults.py on the cluster (the four fault rounds of `make test`, with their
invariants): one row per fault with its seconds of non-2xx answers, from the JSON the test writes
(results/cluster_faults_<UTC>.json, here in the run's folder). The area brings the cluster up
(`scripts/stack down`, then `STACK_PROFILE=cluster scripts/stack up`, as `make cluster-up` does
after its build) and takes it down again, leaving the single stack up as the other areas expect;
it runs last.
"""
import json
import os
import subprocess
import sys
import time

from benchlib.common import REPO, stack, ticking
from benchlib.saga import saga_run, sustained_saga
from benchlib.saga_state import SagaProbe

SHARED_CORES = "one machine: every replica shares the same 2 cores"
FAULTS_TIMEOUT_S = 1200  # the four rounds take ~3-5 min; a hung one must not hold the run


def area_cluster(bench):
    """Both profiles' send and sustained saga, then the fault rounds; the single stack up at the end."""
    if bench.profile != "single":
        raise RuntimeError("cluster area: start from the single stack (make bench brings it up)")
    single = profile_rows(bench, "single")
    switch(bench, "cluster")
    try:
        cluster = profile_rows(bench, "cluster")
        for key, row in cluster.items():
            base = single.get(key) or {}
            if row.get("rps") and base.get("rps"):
                row["vs_single"] = round(row["rps"] / base["rps"], 3)
                row["note"] = "%.2f of single (%s); %s" % (row["vs_single"], SHARED_CORES, row.get("note", ""))
            bench.add(row)
        fault_rows(bench)
    finally:
        switch(bench, "single")


def profile_rows(bench, profile):
    """{"send": row, "saga": row} of the running profile; the single profile's rows are added at
    once (the saga's is the saga area's when it ran), the cluster's by the caller (after the ratio)."""
    prefix = "" if profile == "single" else "cluster: "
    probe = SagaProbe(bench.env)
    try:
        send = saga_run(bench, probe, prefix + "send c16 unpaced, all up", None, bench.args.duration)
        send.update({"area": "cluster", "profile": profile, "target": "", "pass": None})
        if profile == "single":
            bench.add(send)
        saga = next((r for r in bench.rows if r["scenario"] == "saga sustained"), None) if profile == "single" else None
        if saga is None:
            saga = sustained_saga(bench, probe, prefix, (None, ""))
            saga.update({"area": "cluster", "profile": profile, "target": "", "pass": None})
            if profile == "single":
                bench.add(saga)
        return {"send": send, "saga": saga}
    finally:
        probe.close()


def switch(bench, profile):
    """Bring PROFILE up in place of the running one (scripts/stack down, then up) and read its env."""
    if bench.profile == profile:
        return
    with ticking(bench, "cluster: %s down, %s up" % (bench.profile, profile)):
        stack("down")
        bench.restore_env(STACK_PROFILE=profile)  # not the old profile's coordinates (use_stack)
        stack("up")
        bench.use_stack()
    bench.progress.say("cluster: the %s profile is up" % profile)


def fault_rows(bench):
    """tests/cluster/test_faults.py on the running cluster; a row per fault from its JSON."""
    log = bench.work / "cluster_faults.log"
    cmd = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/cluster"]
    t0 = time.monotonic()
    with ticking(bench, "cluster: fault rounds (tests/cluster)"), open(log, "w") as out:
        proc = subprocess.run(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, timeout=FAULTS_TIMEOUT_S,
                              env=dict(os.environ, RESULTS_DIR=str(bench.work)))
    found = sorted(bench.work.glob("cluster_faults_*.json"))
    results = json.loads(found[-1].read_text()) if found else []
    bench.details["cluster_faults"] = {"exit": proc.returncode, "seconds": round(time.monotonic() - t0),
                                       "log": str(log), "rounds": results}
    if proc.returncode != 0 or not results:
        bench.progress.say("warning: cluster: tests/cluster exited %d (%s)" % (proc.returncode, log))
    for r in results:
        ok = not (r["lost"] or r["double"] or r["stuck"] or r["drift"])
        bench.add({"area": "cluster", "scenario": "fault: " + r["fault"], "concurrency": None, "rps": None,
                   "non2xx_seconds": r["non2xx_seconds"], "non2xx_span_s": r["non2xx_span_s"], "fault": r,
                   "target": "lost/double/stuck/drift 0", "pass": ok,
                   "note": "non-2xx %s s (first to last %s s); %d sends ok; lost/double/stuck/drift %d/%d/%d/%d"
                           % (r["non2xx_seconds"], r["non2xx_span_s"], r["sends_ok"], r["lost"], r["double"],
                              r["stuck"], r["drift"])})
    if proc.returncode != 0 and len(results) < 4:
        bench.add({"area": "cluster", "scenario": "fault rounds", "rps": None, "pass": False,
                   "target": "4 rounds pass", "note": "tests/cluster exited %d after %d rounds; see %s"
                                                      % (proc.returncode, len(results), log)})
