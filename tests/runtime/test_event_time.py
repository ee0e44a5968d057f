"""Sorting out one micro-batch by event time (pure Arrow): late rows, the late-data policy,
rows without an event time, re-sent keys; and the lateness format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from afluente.errors import Location, ModelError
from afluente.model.model_config import ModelConfig, parse_lateness
from afluente.runtime.event_time import check_event_column, newest_recorded, split_batch

T0 = datetime(2026, 1, 5, 10, 0)


def _rows(*pairs: tuple[str, int | None]) -> pa.Table:
    return pa.table({
        "id": pa.array([i for i, _ in pairs]),
        "ts": pa.array([None if m is None else T0 + timedelta(minutes=m) for _, m in pairs],
                       pa.timestamp("us")),
    })


def _config(**extra: object) -> ModelConfig:
    return ModelConfig.model_validate({"kind": "append", "event_time": "ts",
                                       "watermark": "5 minutes", **extra})


def test_rows_before_the_watermark_and_without_event_time_are_late() -> None:
    split = split_batch(_rows(("a", 4), ("b", 5), ("c", None), ("d", 30)), _config(),
                        T0 + timedelta(minutes=10), None)
    assert split.on_time["id"].to_pylist() == ["b", "d"]  # 10:05 is the watermark itself
    assert split.late["id"].to_pylist() == ["a", "c"]
    assert split.late["_late_reason"].to_pylist()[1] == "ts is NULL"
    assert (split.watermark, split.newest) == (T0 + timedelta(minutes=5),
                                               T0 + timedelta(minutes=30))
    assert split.progress("ts") == {"event_time": {"column": "ts",
                                                   "max": "2026-01-05T10:30:00"}}


def test_late_data_apply_keeps_every_row() -> None:
    split = split_batch(_rows(("a", 0), ("b", 20)), _config(late_data="apply"),
                        T0 + timedelta(minutes=30), None)
    assert (split.on_time["id"].to_pylist(), split.late.num_rows) == (["a", "b"], 0)
    assert split.newest == T0 + timedelta(minutes=30)  # an older batch does not move it back


def test_a_first_batch_has_no_late_rows_but_is_deduplicated() -> None:
    split = split_batch(_rows(("a", 0), ("a", 0), ("b", 1)), _config(dedup_keys="id"), None,
                        None)
    assert (split.on_time["id"].to_pylist(), split.duplicates, split.late.num_rows) == (
        ["a", "b"], 1, 0)


def test_keys_stored_within_the_watermark_are_dropped() -> None:
    asked: list[object] = []

    def seen(keys: tuple[str, ...], watermark: datetime | None) -> pa.Table:
        asked.append((keys, watermark))
        return pa.table({"id": pa.array(["b"], pa.large_string())})

    split = split_batch(_rows(("a", 20), ("b", 20)), _config(dedup_keys=["id"]),
                        T0 + timedelta(minutes=20), seen)
    assert (split.on_time["id"].to_pylist(), split.duplicates) == (["a"], 1)
    assert asked == [(("id",), T0 + timedelta(minutes=15))]


def test_progress_of_another_column_is_unknown() -> None:
    assert newest_recorded({"event_time": {"column": "x", "max": None}}, "ts") == "unknown"
    assert newest_recorded({"event_time": {"column": "ts", "max": None}}, "ts") is None


@pytest.mark.parametrize(("text", "seconds"), [
    ("10 minutes", 600), ("30s", 30), ("2 hours", 7200), ("1d", 86400), (90, 90)])
def test_lateness_formats(text: object, seconds: int) -> None:
    assert parse_lateness(text) == timedelta(seconds=seconds)


def test_watermark_needs_event_time() -> None:
    with pytest.raises(ValueError, match="`watermark` needs `event_time: <column>`"):
        ModelConfig.model_validate({"kind": "append", "watermark": "1m"})


def test_an_event_time_that_is_not_a_time_says_its_type_and_the_cast() -> None:
    schema = pa.schema([("id", pa.string()), ("ts", pa.string())])
    with pytest.raises(ModelError, match=r"`event_time: ts` is of type string, not a "
                                         r"timestamp or date\n  hint: CAST\(ts AS TIMESTAMP\)"):
        check_event_column(schema, _config(), Location(Path("models/s.sql"), 1), "silver.s")


def test_a_zoned_event_time_round_trips_through_the_progress() -> None:
    """`_kafka_timestamp` is a UTC timestamp: the recorded newest time keeps its zone."""
    utc = T0.replace(tzinfo=UTC)
    rows = pa.table({"id": ["a", "b"], "ts": pa.array([utc, utc + timedelta(minutes=9)],
                                                      pa.timestamp("ms", tz="UTC"))})
    first = split_batch(rows, _config(), None, None)
    newest = newest_recorded(first.progress("ts"), "ts")
    assert newest == utc + timedelta(minutes=9)
    assert isinstance(newest, datetime)
    second = split_batch(rows, _config(), newest, None)
    assert (second.on_time["id"].to_pylist(), second.late["id"].to_pylist()) == (["b"], ["a"])
