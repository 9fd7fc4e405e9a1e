"""scripts/benchlib/saga.py: the keep-pace ladder's decisions, over a model of the stack instead of
wrk: the sends reach at most SENDS/s, the saga keeps up with at most SAGA/s (above it the backlog
grows), a paced step achieves its rate times PACING (wrk losing slots on a loaded machine)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchlib.saga import half_rate, keep_pace_ladder, step_verdict  # noqa: E402


def model(sends, saga, pacing=1.0):
    tried = []

    def step(rate):
        tried.append(rate)
        achieved = sends if rate is None else min(rate * pacing, sends)
        return achieved, step_verdict(rate, achieved, achieved > saga, 0.3, 0)
    return step, tried


def test_a_saga_keeping_pace_with_unpaced_sends_stops_at_once_at_their_rate():
    # The flood from outside: 2,192 sends/s at c16, in flight under 150, drained in 2 s.
    step, tried = model(sends=2192, saga=5000)
    ladder = keep_pace_ladder(step, refine=2)
    assert (ladder["rate"], ladder["paced"], tried) == (2192, False, [None])
    assert ladder["stopped_by"].startswith("sends")


def test_a_rung_short_of_its_rate_counts_at_what_it_achieved_and_the_climb_ends_without_gain():
    # The old ladder called 3,000/s missed (2,192 achieved) and settled at 2,000 (or its bisection).
    step, tried = model(sends=2192, saga=5000)
    ladder = keep_pace_ladder(step, refine=2, rates=[1000, 2000, 3000, 4000, 5000])
    assert (ladder["rate"], tried) == (2192, [1000, 2000, 3000, 4000])
    assert ladder["stopped_by"].startswith("rate short at 4000/s")


def test_a_slow_saga_is_bisected_between_the_rung_kept_and_the_rung_missed():
    step, tried = model(sends=3000, saga=2000)
    ladder = keep_pace_ladder(step, refine=1)
    # unpaced 3,000 missed (backlog), rungs 1,500 and 1,800 kept, 2,100 missed, sqrt(1800 x 2100).
    assert tried == [None, 1500, 1800, 2100, 1944]
    assert ladder["rate"] == 1944
    assert ladder["stopped_by"] == "backlog grew at 2100/s"


def test_rungs_that_lose_slots_go_on_climbing_while_they_gain():
    step, tried = model(sends=3000, saga=2500, pacing=0.9)
    ladder = keep_pace_ladder(step, refine=0)
    # Every rung achieves 0.9 of its rate ("rate short") but more than the one before: the climb
    # goes to 2,700 (2,430 achieved, kept); the unpaced 3,000 is the rate missed.
    assert tried == [None, 1500, 1800, 2100, 2400, 2700]
    assert (ladder["rate"], ladder["stopped_by"]) == (2430, "backlog grew at 3000/s")


def test_first_rung_missed_steps_down_by_halves():
    step, tried = model(sends=4000, saga=600)
    ladder = keep_pace_ladder(step, refine=0)
    assert tried == [None, 2000, 1000, 500]
    assert (ladder["rate"], ladder["stopped_by"]) == (500, "backlog grew at 1000/s")


def test_nothing_kept():
    step, tried = model(sends=4000, saga=0)
    ladder = keep_pace_ladder(step, refine=2)
    assert ladder["rate"] is None and len(tried) == 6
    assert ladder["stopped_by"].startswith("no rate kept pace (backlog grew")


def test_the_verdict_names_every_criterion_missed():
    assert step_verdict(1000, 990, False, 1.9, 0) == []
    assert step_verdict(1000, 900, True, None, 3) == ["errors", "backlog grew", "not drained in 2 s", "rate short"]
    assert step_verdict(None, 10, False, 2.5, 0) == ["not drained in 2 s"]


def test_half_of_an_unpaced_sustained_run_is_half_of_what_it_achieved():
    assert half_rate({"target_rate": None, "rps": 2192.0, "kept_pace": True}) == 1096
