"""scripts/bench_median.py: medians over runs, each ratio kept from its own run."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import bench_median  # noqa: E402


def row(scenario, c, ratio, passed, p99=1.0, saga_p99=None, target="t"):
    r = {"area": "a", "scenario": scenario, "concurrency": c, "ratio": ratio, "pass": passed,
         "p99_ms": p99, "target": target}
    if saga_p99 is not None:
        r["saga"] = {"p99_ms": saga_p99}
    return r


def test_medians_and_passes_per_scenario_in_the_first_runs_order():
    first = {"rows": [row("send", 16, 0.50, False, p99=5.0),
                      row("list", 16, 0.31, True, p99=4.0),
                      row("saga step", 16, 0.2, None),          # no target: left out
                      row("half", 16, 0.13, True, p99=6.0, saga_p99=40.0)]}
    second = {"rows": [row("half", 16, 0.14, False, p99=7.0, saga_p99=60.0),
                       row("list", 16, 0.28, False, p99=8.0)]}   # no send row in this run
    third = {"rows": [row("list", 16, 0.33, True, p99=2.0)]}
    lines = bench_median.summarise([first, second, third])
    assert [line["scenario"] for line in lines] == ["send", "list", "half"]
    send, listing, half = lines
    assert send["ratios"] == [0.50, None, None]
    assert (send["median_ratio"], send["passed"], send["runs"]) == (0.5, 0, 1)
    assert listing["ratios"] == [0.31, 0.28, 0.33]
    assert (listing["median_ratio"], listing["median_p99_ms"]) == (0.31, 4.0)
    assert (listing["passed"], listing["runs"]) == (2, 3)
    # A saga row's p99 is its send -> UNREAD one, not wrk's.
    assert half["p99_ms"] == [40.0, 60.0, None]
    assert half["median_p99_ms"] == 50.0


def test_a_scenario_measured_twice_in_a_run_keeps_its_last_row():
    run = {"rows": [row("send", 16, 0.4, False), row("send", 16, 0.9, True)]}
    (line,) = bench_median.summarise([run])
    assert (line["ratios"], line["passed"]) == ([0.9], 1)


def test_the_table_names_each_run_and_marks_what_a_run_lacks(tmp_path, capsys):
    import json
    a, b = tmp_path / "bench_1.json", tmp_path / "bench_2.json"
    a.write_text(json.dumps({"git": "abc", "rows": [row("list", 64, 0.3, True)]}))
    b.write_text(json.dumps({"git": "def", "rows": []}))
    assert bench_median.main([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "bench_1.json (abc), bench_2.json (def)" in out
    assert "| list | 64 | t | 0.3 / - | 0.3 | 1 / - | 1 | 1 of 1 |" in out


def test_a_row_judged_against_a_floor_gives_its_floor_ratio():
    judged = row("send", 16, 0.45, True)
    judged["floor_ratio"] = 0.82
    (line,) = bench_median.summarise([{"rows": [judged]}])
    assert line["ratios"] == [0.82]
