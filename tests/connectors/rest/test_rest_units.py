"""Pure pieces of the REST connector: Retry-After, backoff, cursor order, JSON → Arrow."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa

from afluente.connectors.rest.config import Incremental, RetryPolicy
from afluente.connectors.rest.fetch import backoff_delay, parse_retry_after
from afluente.connectors.rest.incremental import Watermark, cursor_key
from afluente.connectors.rest.to_arrow import infer_schema, to_batch

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", NOW) == 30.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", NOW) == 0.0  # in the past
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_backoff_doubles_up_to_the_cap_scaled_by_jitter() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=5.0)
    assert [backoff_delay(policy, n, 1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert backoff_delay(policy, 2, 0.5) == 1.0


def test_cursor_order_compares_timestamps_as_instants_and_numbers_as_numbers() -> None:
    # as text, "…00.5Z" sorts before "…00Z"; as instants it is later
    assert cursor_key("2024-01-01T00:00:00.5Z") > cursor_key("2024-01-01T00:00:00Z")
    assert cursor_key("2024-01-01T01:00:00+01:00") == cursor_key("2024-01-01T00:00:00Z")
    assert cursor_key(10) > cursor_key(9.5)


def test_watermark_skips_the_boundary_records_already_ingested() -> None:
    config = Incremental(cursor_field="meta.ts", param="since", initial=0)
    first = Watermark(config, [])
    old = {"id": 1, "meta": {"ts": 5}}
    assert first.admit(old) and first.admit({"id": 2, "meta": {"ts": 3}})
    progress = first.progress()
    assert progress["watermark"] == 5 and len(progress["boundary"]) == 1

    second = Watermark(config, [progress])
    assert second.params() == {"since": 5}
    assert not second.admit(old)  # same record at the watermark: already ingested
    assert not second.admit({"id": 0, "meta": {"ts": 4}})  # older than the watermark
    assert second.admit({"id": 1, "meta": {"ts": 5}, "changed": True})  # same instant, new
    assert second.admit({"id": 9})  # no cursor: kept, never lost
    assert second.progress()["watermark"] == 5
    assert len(second.progress()["boundary"]) == 2


def test_first_batch_fixes_the_schema_widening_within_it() -> None:
    records = [{"a": 1, "b": 1, "c": None, "d": {}}, {"a": 2.5, "b": "x", "c": None}]
    schema = infer_schema(records)
    assert schema.field("a").type == pa.float64()
    assert schema.field("b").type == pa.string()
    assert schema.field("c").type == pa.string()
    assert schema.field("d").type == pa.string()
    batch = to_batch(records, ["s", "s"], schema)
    assert batch.column("b").to_pylist() == ["1", "x"]  # one text column, nothing lost
    assert batch.column("d").to_pylist() == ["{}", None]


def test_later_values_that_do_not_fit_are_rescued_as_json() -> None:
    schema = infer_schema([{"n": 1, "s": {"x": 1}, "flag": True}])
    later = [{"n": True, "s": {"x": 2, "y": 3}, "flag": 1, "other": [1]}]
    batch = to_batch(later, ["src"], schema)
    assert batch.column("n").to_pylist() == [None]
    assert batch.column("s").to_pylist() == [None]
    assert json.loads(batch.column("_rescued_data")[0].as_py()) == {
        "n": True, "s": {"x": 2, "y": 3}, "flag": 1, "other": [1]
    }
    assert batch.column("_source").to_pylist() == ["src"]
