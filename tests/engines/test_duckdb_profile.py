"""The engine's describe, profile and typing operations (DuckDB), used by observability,
contracts and unit tests instead of DuckDB connections of their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from afluente.engines import DuckDBSettings, Engine, create_engine
from afluente.engines.column_stats import ColumnStats
from afluente.errors import EngineError, Location


@pytest.fixture
def engine() -> Iterator[Engine]:
    made = create_engine(DuckDBSettings(threads=1))
    yield made
    made.close()


def test_column_types_are_the_engine_spelling_of_an_arrow_schema(engine: Engine) -> None:
    schema = pa.schema({
        "id": pa.int64(), "name": pa.string(), "amount": pa.decimal128(18, 2),
        "at": pa.timestamp("us", tz="UTC"), "day": pa.date32(),
    })
    assert engine.column_types(schema) == {
        "id": "BIGINT", "name": "VARCHAR", "amount": "DECIMAL(18,2)",
        "at": "TIMESTAMP WITH TIME ZONE", "day": "DATE",
    }


def test_canonical_type_resolves_aliases(engine: Engine) -> None:
    assert engine.canonical_type("int4") == "INTEGER"
    assert engine.canonical_type("int") == "INTEGER"
    assert engine.canonical_type("decimal(18, 2)") == "DECIMAL(18,2)"


def test_a_type_the_engine_cannot_parse_is_an_engine_error(engine: Engine) -> None:
    with pytest.raises(EngineError, match="'NUMBERISH' is not a DuckDB type") as caught:
        engine.canonical_type("NUMBERISH")
    assert caught.value.hint is not None and "BIGINT" in caught.value.hint


def test_profile_rows_counts_present_distinct_and_means(engine: Engine) -> None:
    rows = pa.table({
        "n": pa.array([1, 2, 2, None, 5], pa.int64()),
        "s": pa.array(["a", "a", None, None, "b"]),
    })
    profile = engine.profile_rows(rows, ["n", "s"], averaged=["n"])
    assert profile.rows == 5
    assert profile.columns == {
        "n": ColumnStats(present=4, distinct=3, mean=2.5),
        "s": ColumnStats(present=3, distinct=2, mean=None),
    }


def test_profile_rows_leaves_out_rows_whose_column_starts_with_the_prefix(
    engine: Engine,
) -> None:
    rows = pa.table({
        "n": pa.array([1, None, 3], pa.int64()),
        "_rescued_data": pa.array([None, '{"_source": "x.csv"}', '{"extra": 1}']),
    })
    profile = engine.profile_rows(rows, ["n"], ["n"], ("_rescued_data", '{"_source":'))
    assert profile.rows == 2
    assert profile.columns["n"] == ColumnStats(present=2, distinct=2, mean=2.0)


def test_cast_text_gives_the_declared_types_and_nulls_what_does_not_convert(
    engine: Engine,
) -> None:
    text = pa.table({
        "amount": pa.array(["10.50", None], pa.string()),
        "at": pa.array(["2024-01-05 10:00:00", "2024-01-06T00:00:00+02:00"], pa.string()),
        "ok": pa.array(["true", "maybe"], pa.string()),
    })
    typed = engine.cast_text(text, {"amount": "DECIMAL(18,2)", "at": "TIMESTAMPTZ",
                                    "ok": "BOOLEAN"})
    assert typed.column_names == ["amount", "at", "ok"]
    assert typed.column("amount").to_pylist() == [Decimal("10.50"), None]
    assert typed.column("at").to_pylist() == [
        datetime(2024, 1, 5, 10, tzinfo=UTC), datetime(2024, 1, 5, 22, tzinfo=UTC)
    ]
    assert typed.column("ok").to_pylist() == [True, None]


def test_cast_text_to_an_unknown_type_is_an_engine_error(engine: Engine) -> None:
    text = pa.table({"x": pa.array(["1"], pa.string())})
    with pytest.raises(EngineError, match="NUMBERISH") as caught:
        engine.cast_text(text, {"x": "NUMBERISH"})
    assert caught.value.hint == "check the column types"


def test_describing_and_profiling_leave_a_streaming_result_intact(engine: Engine) -> None:
    """A contract is checked on a result's schema before the result is read: the engine's
    describe and profile operations must not cut that stream short."""
    stream = engine.run_sql("SELECT range AS n FROM range(3000000)", Location("m.sql", 1), "m")
    first = stream.reader.read_next_batch()
    assert engine.column_types(stream.reader.schema) == {"n": "BIGINT"}
    assert engine.canonical_type("int8") == "BIGINT"
    engine.profile_rows(pa.table({"n": [1, 2]}), ["n"], ["n"])
    engine.cast_text(pa.table({"n": ["7"]}), {"n": "INTEGER"})
    rest = stream.reader.read_all()
    assert first.num_rows + rest.num_rows == 3000000
