"""The distribution pillar's column profile: which rows and columns are read, and the
numbers the engine computes from them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from afluente.engines import DuckDBSettings, Engine, create_engine
from afluente.errors import EngineError
from afluente.observability import profile

SCHEMA = pa.schema({
    "order_id": pa.int64(), "channel": pa.string(), "_rescued_data": pa.string(),
    "_row_hash": pa.string(), "_run_id": pa.string(),
})


@pytest.fixture
def engine() -> Iterator[Engine]:
    made = create_engine(DuckDBSettings(threads=1))
    yield made
    made.close()


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    """Two files of an ingested batch; the second has no `channel` column, and one of its
    lines is a quarantined file's row (no column values)."""
    first = pa.table({
        "order_id": [1, 2, 3], "channel": ["web", "web", None],
        "_rescued_data": [None, None, None], "_row_hash": ["a", "b", "c"],
        "_run_id": ["r1"] * 3,
    }, schema=SCHEMA)
    second = pa.table({
        "order_id": pa.array([4, None], pa.int64()),
        "_rescued_data": [None, '{"_source": "bad.csv"}'],
        "_row_hash": ["d", "e"], "_run_id": ["r1"] * 2,
    })
    paths = [str(tmp_path / "part-1.parquet"), str(tmp_path / "part-2.parquet")]
    pq.write_table(first, paths[0])
    pq.write_table(second, paths[1])
    return paths


def test_first_rows_reads_only_the_profiled_columns(files: list[str]) -> None:
    rows = profile.first_rows(files, SCHEMA).read_all()
    assert rows.column_names == ["order_id", "channel", "_rescued_data"]
    assert rows.column("order_id").to_pylist() == [1, 2, 3, 4, None]
    assert rows.column("channel").to_pylist() == ["web", "web", None, None, None]


def test_first_rows_stops_at_the_profile_limit_in_file_order(
    files: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profile, "PROFILE_ROWS", 4)
    rows = profile.first_rows(files, SCHEMA).read_all()
    assert rows.column("order_id").to_pylist() == [1, 2, 3, 4]


def test_profile_of_ingested_files_leaves_out_rows_without_column_values(
    files: list[str], engine: Engine
) -> None:
    measured = profile.profile_table(profile.first_rows(files, SCHEMA), engine)
    assert measured == {
        "order_id": {"rows": 4.0, "null_rate": 0.0, "distinct": 4.0, "mean": 2.5},
        "channel": {"rows": 4.0, "null_rate": 0.5, "distinct": 1.0, "mean": None},
    }


def test_a_table_of_only_afluente_columns_has_no_profile(engine: Engine) -> None:
    table = pa.table({"_run_id": ["r1"], "_row_hash": ["a"]})
    assert profile.profile_table(table, engine) == {}


def test_profile_of_files_read_by_the_engine_equals_the_arrow_profile(
    files: list[str], engine: Engine
) -> None:
    through_arrow = profile.profile_table(profile.first_rows(files, SCHEMA), engine)
    assert profile.profile_files(files, SCHEMA, engine) == through_arrow


def test_profile_of_files_keeps_the_runs_rows_and_stops_at_the_limit(
    files: list[str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert profile.profile_files(files, SCHEMA, engine, run_id="r2") == {
        "order_id": {"rows": 0.0, "null_rate": None, "distinct": 0.0, "mean": None},
        "channel": {"rows": 0.0, "null_rate": None, "distinct": 0.0, "mean": None},
    }
    monkeypatch.setattr(profile, "PROFILE_ROWS", 2)
    first_two = profile.profile_files(files, SCHEMA, engine, run_id="r1")
    assert first_two["order_id"] == {"rows": 2.0, "null_rate": 0.0, "distinct": 2.0,
                                     "mean": 1.5}


def test_a_column_no_file_has_is_an_engine_error(files: list[str], engine: Engine) -> None:
    wider = SCHEMA.insert(1, pa.field("coupon", pa.string()))
    with pytest.raises(EngineError, match="profiling failed"):
        profile.profile_files(files[1:], wider, engine)


@pytest.mark.parametrize("limit", [2, 3, 4, 5, 9])
def test_profile_of_files_cut_at_the_limit_equals_the_arrow_profile(
    files: list[str], engine: Engine, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    # within the first file, exactly the first file, into the second one, all of them
    monkeypatch.setattr(profile, "PROFILE_ROWS", limit)
    through_arrow = profile.profile_table(profile.first_rows(files, SCHEMA), engine)
    assert profile.profile_files(files, SCHEMA, engine) == through_arrow
    assert through_arrow["order_id"]["rows"] == min(limit, 4)  # the 5th row is skipped
