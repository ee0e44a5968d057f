"""Session windows kept by merge (`session_gap`), merged when a late event bridges two, and
windows closed by the watermark (`closes_at` → `<table>__final`), over three micro-batches
of landed files (no broker needed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.errors import AfluenteError
from afluente.model import TableRef
from afluente.runtime.query import query_project

from .helpers import ok, run, table, version

SESSIONS, WINDOWS = TableRef("gold", "sessions"), TableRef("gold", "clicks_15m")
SESSIONS_FINAL, WINDOWS_FINAL = TableRef("gold", "sessions__final"), TableRef(
    "gold", "clicks_15m__final")
SILVER = """/* @config
kind: append
event_time: ts
watermark: 10 minutes
*/
SELECT user_id, CAST(ts AS TIMESTAMP) AS ts, CAST(amount AS INTEGER) AS amount
FROM bronze.clicks
"""
SESSIONS_SQL = """/* @config
kind: merge
unique_key: [user_id, session_start]
session_gap: 6 minutes
combine: {clicks: sum, amount: sum, closes_at: max}
closes_at: closes_at
*/
SELECT user_id, ts AS session_start, ts AS session_end, 1 AS clicks, amount,
       ts + INTERVAL 6 MINUTE AS closes_at
FROM silver.clicks
"""
WINDOWS_SQL = """/* @config
kind: merge
unique_key: window_start
combine: {clicks: sum}
closes_at: window_end
*/
SELECT time_bucket(INTERVAL '15 minutes', ts) AS window_start,
       time_bucket(INTERVAL '15 minutes', ts) + INTERVAL 15 MINUTE AS window_end,
       count(*) AS clicks
FROM silver.clicks GROUP BY ALL
"""
START = datetime(2026, 1, 5, 10, 0)
# (user, minute after 10:00, amount) per micro-batch; gap 6 minutes, lateness 10 minutes
BATCHES = [
    [("u1", 0, 1), ("u1", 3, 2), ("u1", 12, 4),  # u1: [0, 3] and [12]: 12 >= 3 + 6
     ("u2", 1, 8)],  # newest 10:12: watermark 10:02
    [("u1", 8, 16),  # late, within the watermark: bridges [0, 3] and [12] into [0, 12]
     ("u2", 30, 32)],  # newest 10:30: watermark 10:20
    [("u1", 2, 64),  # late: before 10:20, diverted
     ("u2", 33, 128),  # joins [30] -> [30, 33]
     ("u1", 50, 256)],  # newest 10:50: watermark 10:40
]


def _at(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def _project(root: Path, models: dict[str, str]) -> Path:
    (root / "landing").mkdir(parents=True)
    for path, sql in {"silver/clicks.sql": SILVER, **models}.items():
        (root / "models" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "models" / path).write_text(sql, encoding="utf-8")
    (root / "afluente.yml").write_text(
        "name: sessions\nsources:\n  clicks:\n    type: files\n    path: landing/*.csv\n"
        "    stream: true\n", encoding="utf-8")
    return root


def _land(root: Path, name: str, rows: list[tuple[str, int, int]]) -> None:
    aside = root / f".{name}.tmp"
    aside.write_text("user_id,ts,amount\n" + "".join(
        f"{u},{_at(m)},{a}\n" for u, m, a in rows), encoding="utf-8")
    aside.rename(root / "landing" / name)


def _sessions(ref: TableRef, root: Path) -> set[tuple[object, ...]]:
    return {(r["user_id"], r["session_start"], r["session_end"], r["clicks"], r["amount"])
            for r in table(root, ref).to_pylist()}


@pytest.fixture(scope="module")
def streamed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[set[object]]]:
    """Three micro-batches; what `__final` of the sessions held after each."""
    root = _project(tmp_path_factory.mktemp("sessions") / "p",
                    {"gold/sessions.sql": SESSIONS_SQL, "gold/clicks_15m.sql": WINDOWS_SQL})
    finals: list[set[object]] = []
    for number, rows in enumerate(BATCHES):
        _land(root, f"b{number}.csv", rows)
        ok(run(root))
        finals.append(_sessions(SESSIONS_FINAL, root) if version(root, SESSIONS_FINAL)
                      is not None else set())
    return root, finals


def test_sessions_grow_merge_when_bridged_and_keep_their_aggregates(
        streamed: tuple[Path, list[set[object]]]) -> None:
    root, _ = streamed
    assert _sessions(SESSIONS, root) == {
        ("u1", _at(0), _at(12), 4, 1 + 2 + 4 + 16),  # [0, 3] + 8 + [12]: one session
        ("u2", _at(1), _at(1), 1, 8),
        ("u2", _at(30), _at(33), 2, 32 + 128),
        ("u1", _at(50), _at(50), 1, 256),
    }  # the stored [12] session u1 had after the first batch was deleted by the merge


def test_the_watermark_closes_sessions_into_the_final_table_once(
        streamed: tuple[Path, list[set[object]]]) -> None:
    root, finals = streamed
    closed_by_second = {("u1", _at(0), _at(12), 4, 23), ("u2", _at(1), _at(1), 1, 8)}
    assert finals[0] == set()  # watermark 10:02: nothing ends 6 minutes before it
    assert finals[1] == closed_by_second  # 10:20: u1's closes at 10:18, u2's at 10:07
    assert finals[2] == closed_by_second | {("u2", _at(30), _at(33), 2, 160)}  # 10:39
    rows = table(root, SESSIONS_FINAL).to_pylist()
    assert len(rows) == 3  # each closed once
    assert {(r["user_id"], r["session_start"]): r["_closed_by"] for r in rows} == {
        ("u1", _at(0)): _at(20), ("u2", _at(1)): _at(20), ("u2", _at(30)): _at(40)}


def test_a_tumbling_window_closes_when_the_watermark_passes_its_end(
        streamed: tuple[Path, list[set[object]]]) -> None:
    root, _ = streamed
    stored = {r["window_start"]: r["clicks"] for r in table(root, WINDOWS).to_pylist()}
    assert stored == {_at(0): 5, _at(30): 2, _at(45): 1}
    final = [(r["window_start"], r["clicks"], r["_closed_by"])
             for r in table(root, WINDOWS_FINAL).to_pylist()]
    assert final == [(_at(0), 5, _at(20))]  # [10:30, 10:45) is still open at 10:40
    queried = query_project(load_project(root), "SELECT clicks FROM gold.clicks_15m__final")
    assert queried["clicks"].to_pylist() == [5]  # `afluente query` reads it


def test_closes_at_without_an_event_time_upstream_is_an_error(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {"gold/clicks_15m.sql": WINDOWS_SQL})
    (root / "models" / "silver" / "clicks.sql").write_text(
        SILVER.replace("event_time: ts\nwatermark: 10 minutes\n", ""), encoding="utf-8")
    with pytest.raises(AfluenteError, match=(
            r"models/gold/clicks_15m.sql.*`closes_at: window_end` needs a stream with an "
            r"event time: none of the tables `gold.clicks_15m` reads \(silver.clicks\) "
            r"declares `event_time`")):
        run(root)


def test_a_session_column_without_combine_is_refused_and_the_table_kept(
        tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {"gold/sessions.sql": SESSIONS_SQL})
    _land(root, "b0.csv", BATCHES[0])
    ok(run(root))
    before = version(root, SESSIONS)
    (root / "models" / "gold" / "sessions.sql").write_text(
        SESSIONS_SQL.replace("combine: {clicks: sum, amount: sum, closes_at: max}",
                             "combine: {clicks: sum, closes_at: max}"), encoding="utf-8")
    _land(root, "b1.csv", BATCHES[1])
    result = run(root)
    failed = next(m for m in result.failed if m.ref == SESSIONS)
    assert ("`session_gap`: column(s) amount have no `combine` (sum, min or max): merging "
            "two sessions would have to drop one of their values") in str(failed.reason)
    assert version(root, SESSIONS) == before
