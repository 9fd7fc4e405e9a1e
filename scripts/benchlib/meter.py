"""CPU of every process of the stack and peak RSS of each service over a window."""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from benchlib.common import CLK_TCK, SERVICES, stack


def proc_table():
    """{pid: (ppid, cpu ticks, start time, comm)} of every process; cpu = utime + stime +
    cutime + cstime, i.e. its own time plus that of the children it has reaped."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(b")") + 2:].split()
        comm = data[data.index(b"(") + 1:data.rindex(b")")].decode(errors="replace")
        table[int(entry)] = (int(rest[1]), sum(int(x) for x in rest[11:15]), int(rest[19]), comm)
    return table


def tree_ticks(root, table, children):
    """CPU ticks of a process and all its descendants (reaped ones included via cutime)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
            todo.extend(children.get(pid, ()))
    return total


def children_of(table):
    kids = {}
    for pid, (ppid, *_) in table.items():
        kids.setdefault(ppid, []).append(pid)
    return kids


class Roots:
    """Main PID of each running component (`scripts/stack pid NAME`), resolved again only when
    one of them is gone or bench.py itself stopped or started something (invalidate())."""

    def __init__(self, names):
        self.names = names  # the profile's components (common.components)
        self.cache = None

    def invalidate(self):
        self.cache = None

    def get(self, table):
        if self.cache is None or any(table.get(pid, (0, 0, None, ""))[2] != start
                                     for pid, start in self.cache.values()):
            with ThreadPoolExecutor(len(self.names)) as pool:
                outs = pool.map(lambda n: stack("pid", n, check=False), self.names)
            self.cache = {}
            for name, out in zip(self.names, outs):
                pid = out.stdout.strip()
                if out.returncode == 0 and pid.isdigit() and int(pid) in table:
                    self.cache[name] = (int(pid), table[int(pid)][2])
        return {name: pid for name, (pid, _) in self.cache.items()}


def foreign_load(table):
    """Load generators (wrk, pgbench, amqp_bench) running that bench.py did not start: somebody
    else is loading the machine, maybe this very stack."""
    mine, kids = set(), children_of(table)
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        mine.add(pid)
        todo.extend(kids.get(pid, ()))
    return sorted("%s:%d" % (v[3], pid) for pid, v in table.items()
                  if v[3] in ("wrk", "pgbench", "amqp_bench") and pid not in mine)


def status_kb(pid, field):
    """A /proc/PID/status field in kB (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss(pid):
    """Make VmHWM start again from the current RSS (Linux clear_refs 5)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
    except OSError:
        pass


def machine_ticks():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    total = sum(fields)
    return total - fields[3] - fields[4], total


class Meter:
    """CPU of every process of the stack and peak RSS of each service over one window."""

    def __init__(self, roots):
        self.roots = roots

    def start(self):
        table = proc_table()
        self.roots0 = self.roots.get(table)
        for name, pid in self.roots0.items():
            if name in SERVICES:
                reset_peak_rss(pid)
        kids = children_of(table)
        self.ticks0 = {n: tree_ticks(p, table, kids) for n, p in self.roots0.items()}
        self.foreign0 = foreign_load(table)
        self.machine0 = machine_ticks()
        self.t0 = time.monotonic()
        return self

    def stop(self):
        """{"cpu_us": per component, "cpu_total_us", "rss_peak_mib": per service, ...}.
        A component restarted inside the window counts only its new process (the old one's
        last moments are lost): listed under "restarted"."""
        seconds = time.monotonic() - self.t0
        table = proc_table()
        roots1 = self.roots.get(table)
        kids = children_of(table)
        cpu, restarted = {}, []
        for name, pid in roots1.items():
            ticks = tree_ticks(pid, table, kids)
            if self.roots0.get(name) == pid:
                ticks -= self.ticks0[name]
            elif name in self.roots0:
                restarted.append(name)
            cpu[name] = round(ticks * 1e6 / CLK_TCK)
        busy0, total0 = self.machine0
        busy1, total1 = machine_ticks()
        rss = {n: round(status_kb(p, "VmHWM") / 1024, 1) for n, p in roots1.items()
               if n in SERVICES and status_kb(p, "VmHWM") is not None}
        return {"seconds": round(seconds, 2), "cpu_us": cpu, "cpu_total_us": sum(cpu.values()),
                "rss_peak_mib": rss, "restarted": restarted,
                "foreign_load": sorted(set(self.foreign0) | set(foreign_load(table))),
                "machine_busy_us": round((busy1 - busy0) * 1e6 / CLK_TCK),
                "machine_total_us": round((total1 - total0) * 1e6 / CLK_TCK),
                "machine_busy_pct": round(100 * (busy1 - busy0) / max(1, total1 - total0), 1)}


class RssWatch:
    """Peak VmRSS of each service over the whole run, set-up (user registration...) included:
    sampled every 200 ms from the PIDs Roots knows."""

    def __init__(self, roots):
        self.roots = roots
        self.peaks = {}
        self.stop_event = threading.Event()
        roots.get(proc_table())
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_event.wait(0.2):
            for name, (pid, _) in list((self.roots.cache or {}).items()):
                kb = status_kb(pid, "VmRSS") if name in SERVICES else None
                if kb is not None:
                    self.peaks[name] = max(self.peaks.get(name, 0), round(kb / 1024, 1))

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        return self.peaks
