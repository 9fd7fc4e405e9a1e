"""scripts/bench.py's parts: the mechanisms (common, meter, saga_state, runner, limits, run,
report) and one module per area (send, saga, reads, feed, search, cluster); scripts/bench.py is
the entry point."""
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
sys.dont_write_bytecode = True  # nothing of the bench leaves __pycache__ in the tree
sys.path.insert(0, str(_REPO / "bench"))  # bench/saga_metrics.py
sys.path.insert(0, str(_REPO / "scripts"))  # scripts/bench_feed.py
