"""Prints the fault rounds' table (tests/cluster/test_faults.py) and writes it to results/."""
import json
import os
import time
from pathlib import Path


def pytest_terminal_summary(terminalreporter):
    from test_faults import RESULTS
    if not RESULTS:
        return
    cols = ("fault", "sends_ok", "lists_ok", "failed_attempts", "non2xx_seconds", "non2xx_span_s",
            "lost", "double", "stuck", "drift")
    widths = [max(len(c), *(len(str(r[c])) for r in RESULTS)) for c in cols]
    write = terminalreporter.write_line
    write("")
    write("cluster fault rounds (non2xx_seconds: seconds in which a client saw a non-2xx answer or a "
          "connection error; span: first to last)")
    write("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in RESULTS:
        write("  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths)))
    for r in RESULTS:
        write(f"  {r['fault']}: {r['detail']}")
    out = Path(os.environ.get("RESULTS_DIR", Path(__file__).resolve().parents[2] / "results"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"cluster_faults_{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(RESULTS, indent=2))
    write(f"written to {path}")
