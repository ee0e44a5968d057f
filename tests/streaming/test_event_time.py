"""Event time in a stream: watermark and late rows, de-duplication within the watermark, and
tumbling windows kept in gold by merge (`combine:`), over files landed between
micro-batches (no broker needed)."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.errors import AfluenteError
from afluente.model import TableRef
from afluente.runtime import RunResult
from afluente.runtime.query import query_project
from afluente.runtime.stream import parse_trigger, stream_project
from afluente.state import StateStore

from .helpers import ok, run, table, version, warehouse

SILVER, GOLD = TableRef("silver", "events"), TableRef("gold", "revenue_15m")
LATE = TableRef("silver", "events__late")
SILVER_SQL = """/* @config
kind: append
event_time: ts
watermark: 10 minutes
dedup_keys: event_id
*/
SELECT event_id, CAST(ts AS TIMESTAMP) AS ts, state, CAST(amount AS INTEGER) AS amount
FROM bronze.events
"""
GOLD_SQL = """/* @config
kind: merge
unique_key: [window_start, state]
combine: {revenue: sum, events: sum, first_event: min, last_event: max}
*/
SELECT time_bucket(INTERVAL '15 minutes', ts) AS window_start, state,
       sum(amount) AS revenue, count(*) AS events, min(ts) AS first_event,
       max(ts) AS last_event
FROM silver.events GROUP BY ALL
"""
# sliding windows: 30 minutes long, one starting every 15 (each event is in two)
SLIDING_SQL = """/* @config
kind: merge
unique_key: [window_start, state]
combine: {revenue: sum, events: sum}
*/
SELECT window_start, state, sum(amount) AS revenue, count(*) AS events
FROM silver.events, unnest(generate_series(
    time_bucket(INTERVAL '15 minutes', ts) - INTERVAL '15 minutes',
    time_bucket(INTERVAL '15 minutes', ts), INTERVAL '15 minutes')) AS w(window_start)
GROUP BY ALL
"""
SLIDING = TableRef("gold", "revenue_sliding")
# (event_id, minute after 10:00, state, amount) landed per micro-batch
BATCHES = [
    [("e1", 0, "SP", 10), ("e2", 1, "RJ", 5), ("e3", 20, "SP", 7)],  # newest 10:20
    [("e4", 5, "SP", 3),  # late: before the watermark 10:10
     ("e5", 12, "SP", 4),  # late but within it: updates the 10:00 window
     ("e3", 20, "SP", 7),  # re-sent: dropped
     ("e6", 31, "RJ", 1)],  # newest 10:31
    [("e7", 16, "SP", 2),  # late: before 10:21
     ("e8", 22, "SP", 6),  # updates the 10:15 window
     ("e6", 31, "RJ", 1),  # re-sent: dropped
     ("e9", 40, "RJ", 2), ("e9", 40, "RJ", 2)],  # twice in one batch: once
]
START = datetime(2026, 1, 5, 10, 0)


def _project(root: Path, silver: str = SILVER_SQL, gold: bool = True) -> Path:
    (root / "landing").mkdir(parents=True)
    golds = (("gold/revenue_15m.sql", GOLD_SQL), ("gold/revenue_sliding.sql", SLIDING_SQL))
    for path, sql in (("silver/events.sql", silver), *(golds if gold else ())):
        (root / "models" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "models" / path).write_text(sql, encoding="utf-8")
    (root / "afluente.yml").write_text(
        "name: eventtime\nsources:\n  events:\n    type: files\n    path: landing/*.csv\n"
        "    stream: true\n", encoding="utf-8")
    return root


def _land(root: Path, name: str, rows: list[tuple[str, int, str, int]]) -> None:
    aside = root / f".{name}.tmp"
    aside.write_text("event_id,ts,state,amount\n" + "".join(
        f"{e},{START + timedelta(minutes=m)},{s},{a}\n" for e, m, s, a in rows),
        encoding="utf-8")
    aside.rename(root / "landing" / name)


@pytest.fixture(scope="module")
def streamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`afluente stream --trigger 0.05s`, the next file landed after each micro-batch."""
    root = _project(tmp_path_factory.mktemp("event_time") / "p")
    _land(root, "batch0.csv", BATCHES[0])
    stop = threading.Event()

    def land_next(number: int, result: RunResult) -> None:
        ok(result)
        if number < len(BATCHES):
            _land(root, f"batch{number}.csv", BATCHES[number])
        else:
            stop.set()

    outcome = stream_project(load_project(root), parse_trigger("0.05s"), stop=stop,
                             on_batch=land_next)
    assert (outcome.batches, outcome.rows) == (3, 12)
    return root


def _at(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def test_late_rows_go_to_the_late_table_with_their_reason(streamed: Path) -> None:
    late = sorted(table(streamed, LATE).to_pylist(), key=lambda r: r["event_id"])
    assert [(r["event_id"], r["ts"], r["_watermark"]) for r in late] == [
        ("e4", _at(5), _at(10)), ("e7", _at(16), _at(21))]
    assert late[0]["_late_reason"] == (
        "ts 2026-01-05 10:05:00 is older than the watermark 2026-01-05 10:10:00 (the newest "
        "ts seen minus the lateness 0:10:00)")
    queried = query_project(load_project(streamed),
                            "SELECT event_id FROM silver.events__late ORDER BY event_id")
    assert queried["event_id"].to_pylist() == ["e4", "e7"]  # `afluente query` reads it


def test_each_micro_batch_records_its_watermark_and_counts(streamed: Path) -> None:
    with StateStore.open(load_project(streamed).state_url) as state:
        found = [e.payload["event_time"] for e in state.events()
                 if e.type == "table_committed" and e.model == "silver.events"]
    assert found == [
        {"watermark": None, "late_rows": 0, "duplicates": 0, "late_data": "divert"},
        {"watermark": "2026-01-05T10:10:00", "late_rows": 1, "duplicates": 1,
         "late_data": "divert"},
        {"watermark": "2026-01-05T10:21:00", "late_rows": 1, "duplicates": 2,
         "late_data": "divert"}]


def test_silver_holds_each_on_time_event_once(streamed: Path) -> None:
    rows = table(streamed, SILVER).to_pylist()
    assert sorted((r["event_id"], r["ts"]) for r in rows) == [
        ("e1", _at(0)), ("e2", _at(1)), ("e3", _at(20)), ("e5", _at(12)), ("e6", _at(31)),
        ("e8", _at(22)), ("e9", _at(40))]


ACCEPTED = {"e1", "e2", "e3", "e5", "e6", "e8", "e9"}


def _accepted() -> set[tuple[str, int, str, int]]:
    return {r for b in BATCHES for r in b if r[0] in ACCEPTED}


def test_gold_windows_equal_a_batch_aggregate_of_the_accepted_events(streamed: Path) -> None:
    expected: dict[tuple[datetime, str], list[tuple[int, datetime]]] = defaultdict(list)
    for _, minute, state, amount in _accepted():
        expected[(_at(minute // 15 * 15), state)].append((amount, _at(minute)))
    want = {k: (sum(a for a, _ in v), len(v), min(t for _, t in v), max(t for _, t in v))
            for k, v in expected.items()}
    got = {(r["window_start"], r["state"]):
           (r["revenue"], r["events"], r["first_event"], r["last_event"])
           for r in table(streamed, GOLD).to_pylist()}
    assert got == want
    batch = query_project(load_project(streamed), GOLD_SQL.split("*/", 1)[1])  # over silver
    assert {(r["window_start"], r["state"]):
            (r["revenue"], r["events"], r["first_event"], r["last_event"])
            for r in batch.to_pylist()} == got
    assert got[(_at(0), "SP")] == (14, 2, _at(0), _at(12))  # e5 updated an old window
    assert got[(_at(15), "SP")] == (13, 2, _at(20), _at(22))


def test_sliding_windows_equal_a_batch_aggregate(streamed: Path) -> None:
    expected: dict[tuple[datetime, str], tuple[int, int]] = defaultdict(lambda: (0, 0))
    for _, minute, state, amount in _accepted():
        for start in (minute // 15 * 15 - 15, minute // 15 * 15):
            revenue, events = expected[(_at(start), state)]
            expected[(_at(start), state)] = (revenue + amount, events + 1)
    got = {(r["window_start"], r["state"]): (r["revenue"], r["events"])
           for r in table(streamed, SLIDING).to_pylist()}
    assert got == expected


def test_gold_was_updated_in_place_not_rebuilt(streamed: Path) -> None:
    history = warehouse(streamed).history(GOLD)
    assert [c.operation for c in history].count("MERGE") == 2  # the 2nd and 3rd batches


def test_a_full_refresh_reads_every_row_and_empties_the_late_table(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", gold=False)
    for number, rows in enumerate(BATCHES[:2]):
        _land(root, f"batch{number}.csv", rows)
        ok(run(root))
    assert [r["event_id"] for r in table(root, LATE).to_pylist()] == ["e4"]
    ok(run(root, full_refresh=True))
    assert table(root, LATE).num_rows == 0
    assert sorted(r["event_id"] for r in table(root, SILVER).to_pylist()) == [
        "e1", "e2", "e3", "e4", "e5", "e6"]  # no watermark in a rebuild; e3 once


def test_a_missing_event_time_column_names_the_model_file_and_the_columns(
        tmp_path: Path) -> None:
    root = _project(tmp_path / "p", gold=False)
    _land(root, "a.csv", BATCHES[0])
    ok(run(root))
    before = version(root, SILVER)
    (root / "models" / "silver" / "events.sql").write_text(
        SILVER_SQL.replace("event_time: ts", "event_time: tss"), encoding="utf-8")
    _land(root, "b.csv", BATCHES[1])
    result = run(root)
    failure = next(m for m in result.failed if m.ref == SILVER)
    assert "models/silver/events.sql" in str(failure.reason)
    assert ("`event_time: tss` is not a column of the model's output "
            "(columns: event_id, ts, state, amount)") in str(failure.reason)
    assert version(root, SILVER) == before  # the previous version is intact


def test_a_bad_lateness_says_the_format(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", SILVER_SQL.replace("10 minutes", "ten minutes"))
    with pytest.raises(AfluenteError, match=r"models/silver/events.sql:4: `watermark`: "
                       r"watermark 'ten minutes' is not a lateness: write a number and a unit"):
        run(root)
