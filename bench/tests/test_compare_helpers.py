"""The statistics and the stage split behind bench/compare_revisions.py (pure, fast).

    PYTHONPATH=src .venv/bin/python -m pytest bench/tests -q
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Measurement
from paired_stats import paired_difference, paired_ratio, sign_test_p, spread
from run_stages import run_stages


def test_spread_gives_median_and_quartiles() -> None:
    s = spread([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (s.median, s.q1, s.q3) == (3.0, 2.0, 4.0)
    assert s.text(1) == "3.0 (2.0-4.0)"
    assert spread([7.0]).text(0) == "7 (7-7)"


def test_sign_test_is_exact_and_two_sided() -> None:
    assert sign_test_p(0, 6) == pytest.approx(2 / 64)
    assert sign_test_p(6, 6) == pytest.approx(2 / 64)
    assert sign_test_p(3, 6) == 1.0
    assert sign_test_p(0, 5) == pytest.approx(2 / 32)  # 5 pairs can never reach p < 0.05


def test_consistently_faster_side_is_resolved() -> None:
    a = [10.0, 11.0, 9.5, 10.2, 10.8, 9.9]
    b = [x * 0.9 for x in a]
    r = paired_ratio(a, b)
    assert r.median == pytest.approx(0.9)
    assert r.ci_low == pytest.approx(0.9) and r.ci_high == pytest.approx(0.9)
    assert r.lower_in == 6
    assert r.verdict() == "B lower by 10.0%"


def test_too_few_pairs_is_marked_tentative() -> None:
    r = paired_ratio([10.0, 10.0, 10.0], [11.0, 11.0, 11.0])
    assert r.verdict() == "B higher by 10.0%? (too few or mixed pairs)"


def test_mixed_pairs_resolve_nothing() -> None:
    r = paired_ratio([10.0, 10.0, 10.0, 10.0], [9.0, 11.0, 9.5, 10.5])
    assert r.verdict() == "no difference resolved"
    assert paired_difference([1.0, 2.0, 3.0], [1.5, 2.5, 2.0]) == 0.5


def test_unequal_series_are_refused() -> None:
    with pytest.raises(ValueError, match="equal, non-empty series"):
        paired_ratio([1.0, 2.0], [1.0])


def test_run_stages_split_the_wall_time(tmp_path: Path) -> None:
    state = tmp_path / ".afluente"
    state.mkdir()
    with sqlite3.connect(state / "state.db") as con:
        con.execute("CREATE TABLE runs (run_id TEXT, started_at TEXT, finished_at TEXT)")
        con.execute("CREATE TABLE model_runs (run_id TEXT, model TEXT, duration_s REAL, "
                    "started_at TEXT, finished_at TEXT)")
        con.execute("INSERT INTO runs VALUES ('r1', '2026-12-02 10:00:02', '2026-12-02 10:00:10')")
        con.execute("INSERT INTO model_runs VALUES ('r1', 'bronze.a', 3.0, "
                    "'2026-12-02 10:00:03', '2026-12-02 10:00:06')")
        con.execute("INSERT INTO model_runs VALUES ('r1', 'gold.b', 2.5, "
                    "'2026-12-02 10:00:06', '2026-12-02 10:00:09')")
    launched = 1_796_205_600.0  # 2026-12-02 10:00:00 UTC
    m = Measurement(command=["x"], wall_s=13.0, user_s=1, sys_s=1, peak_rss_mib=1, returncode=0)
    stages = run_stages(tmp_path, launched, m)
    assert stages["startup_s"] == 2.0
    assert stages["run_s"] == 8.0
    assert stages["models_span_s"] == 7.0
    assert stages["post_run_s"] == 3.0
    assert stages["models"] == {"bronze.a": 3.0, "gold.b": 2.5}


def test_run_stages_without_a_state_store_is_empty(tmp_path: Path) -> None:
    m = Measurement(command=["x"], wall_s=1, user_s=1, sys_s=1, peak_rss_mib=1, returncode=0)
    assert run_stages(tmp_path, 0.0, m) == {}


def test_unknown_revision_is_named() -> None:
    from compare_revisions import resolve

    with pytest.raises(SystemExit, match=r"cannot resolve revision 'no-such-rev-xyz'.*git log"):
        resolve("no-such-rev-xyz")


def test_unknown_benchmark_lists_the_choices(tmp_path: Path) -> None:
    from compare_revisions import workload

    with pytest.raises(SystemExit, match="unknown benchmark 'dem0'; choose demo, reference"):
        workload("dem0", 1000, tmp_path)
    with pytest.raises(SystemExit, match=r"unknown start-up command 'rnus'; choose .*startup:runs"):
        workload("startup:rnus", 1000, tmp_path)


def test_markdown_reports_sides_ratios_stages_and_content() -> None:
    from compare_report import markdown
    from compare_revisions import Side

    def runs(walls: list[float]) -> list[Measurement]:
        return [Measurement(command=["x"], wall_s=w, user_s=w, sys_s=0.0, peak_rss_mib=100.0,
                            returncode=0) for w in walls]

    a = Side("A", "old", "a" * 40, Path("/a"), runs=runs([10, 11, 10, 12, 10, 11]),
             load=[1.0, 2.0])
    b = Side("B", "new", "b" * 40, Path("/b"), runs=runs([9, 9.9, 9, 10.8, 9, 9.9]),
             load=[1.5, 2.5])
    for side, model in ((a, 4.0), (b, 3.0)):
        side.stages = [{"startup_s": 1.0, "run_s": 8.0, "post_run_s": 1.0,
                        "models": {"bronze.x": model, "gold.y": 2.0}}] * 6
    env = {"versions": {"python": "3.11", "duckdb": "1.5", "deltalake": "1.6",
                        "pyarrow": "26"}, "date_utc": "2026-12-02T00:00:00Z",
           "machine": {"nproc": 2}}
    content = {"tables": 2, "row_count_differences": {}, "match": True}
    text = markdown("demo", "python bench/compare_revisions.py", env, [a, b], [0.1, 0.2],
                    content, 1)
    assert "### demo: B `bbbbbbb` vs A `aaaaaaa`" in text
    assert "after 1 untimed warm-up run(s) of each" in text
    assert "A 1.00-2.00, B 1.50-2.50" in text
    assert "| wall s | 10.50 (10.00-11.00) | 9.45 (9.00-9.90) | **0.900** [0.900, 0.900] " \
           "| 6/6 (p = 0.031) | B lower by 10.0% |" in text
    assert "| model `bronze.x` | 4.00 | 3.00 | -1.00 |" in text
    assert "Content: row counts of all 2 tables identical." in text
