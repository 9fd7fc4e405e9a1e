"""scripts/bench.py: the half-rate saga run is paced at half of what the sustained run held."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchlib.saga import half_rate  # noqa: E402


def test_half_of_the_paced_rate_when_the_sustained_run_kept_pace():
    # Kept pace at 97% achieved: the paced rate is the one it keeps pace with.
    assert half_rate({"target_rate": 4528, "rps": 4400.0, "kept_pace": True}) == 2264


def test_half_of_what_was_achieved_when_the_sustained_run_fell_short():
    # The seventh session's second run: paced at 5,065/s, 4,301/s achieved over 60 s.
    assert half_rate({"target_rate": 5065, "rps": 4301.0, "kept_pace": False}) == 2150


def test_a_run_that_missed_only_on_its_drain_keeps_its_paced_rate():
    assert half_rate({"target_rate": 3000, "rps": 3100.0, "kept_pace": False}) == 1500


def test_never_below_one_send_a_second():
    assert half_rate({"target_rate": 1, "rps": 0.0, "kept_pace": False}) == 1
