"""What the post-run profile reads: the rows a version added for append-like writes, the
whole version otherwise, and distinct counts close to exact at any size."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from deltalake import DeltaTable, write_deltalake

from afluente.engines import DuckDBSettings, create_engine
from afluente.observability import profile
from afluente.state.observability import ObservabilityStore
from afluente.storage.file_stats import plain_files

from .conftest import Shop

LOG = "/* @config\nkind: append\n*/\nSELECT CAST(order_id AS INTEGER) AS order_id, channel\n" \
      "FROM bronze.orders\n"


def profiled_rows(shop: Shop, model: str) -> list[float | None]:
    with ObservabilityStore.open(shop.project.state_url) as store:
        return [m.profile["order_id"]["rows"] for m in store.metrics(model)]


def test_an_append_model_is_profiled_on_the_rows_it_added(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    (shop.root / "models" / "silver" / "order_log.sql").write_text(LOG)
    with caplog.at_level(logging.DEBUG, logger="afluente.observability"):
        shop.run(rows=100)
        shop.run(rows=30)
    # every table's files were read by DuckDB itself, none fell back to the Arrow scan
    assert not [r.message for r in caplog.records if "through Arrow" in r.message]
    assert profiled_rows(shop, "silver.order_log") == [100.0, 30.0]
    assert profiled_rows(shop, "bronze.orders") == [100.0, 30.0]
    # a full rebuild is profiled whole
    assert profiled_rows(shop, "silver.orders") == [100.0, 130.0]


MERGED = "/* @config\nkind: merge\nunique_key: order_id\n*/\n" \
         "SELECT CAST(order_id AS INTEGER) AS order_id, channel FROM bronze.orders\n"


def test_a_merge_model_is_profiled_on_the_files_its_merge_wrote(shop: Shop) -> None:
    (shop.root / "models" / "silver" / "order_keys.sql").write_text(MERGED)
    shop.run(rows=100)
    shop.run(rows=30)  # new keys beyond the stored file's range: only a new file is written
    assert profiled_rows(shop, "silver.order_keys") == [100.0, 30.0]
    from afluente.observability.monitor import profiled_part

    with ObservabilityStore.open(shop.project.state_url) as store:
        first, second = store.metrics("silver.order_keys")
    assert (second.row_count, profiled_part(first), profiled_part(second)) == (130, False, True)


@pytest.mark.parametrize("count", [1, 7, 1_000, 200_000])
def test_distinct_counts_are_within_half_a_percent_of_exact(count: int) -> None:
    engine = create_engine(DuckDBSettings(threads=1))
    try:
        ids = pa.array(range(count), pa.int64())
        text = pa.array([f"customer-{i % max(count // 2, 1)}" for i in range(count)])
        rows = pa.table({"id": ids, "name": text, "empty": pa.nulls(count, pa.string())})
        measured = engine.profile_rows(rows, ["id", "name", "empty"])
    finally:
        engine.close()
    assert abs(measured.columns["id"].distinct - count) <= 0.005 * count
    exact_names = max(count // 2, 1)
    assert abs(measured.columns["name"].distinct - exact_names) <= 0.005 * exact_names
    assert measured.columns["empty"].distinct == 0


def test_a_profile_streams_at_most_profile_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile, "PROFILE_ROWS", 5)
    batches = [pa.record_batch({"n": list(range(i * 4, i * 4 + 4))}) for i in range(3)]
    dataset = pa.Table.from_batches(batches)
    engine = create_engine(DuckDBSettings(threads=1))
    try:
        measured = profile.profile_table(pads.dataset(dataset), engine)
    finally:
        engine.close()
    assert measured == {"n": {"rows": 5.0, "null_rate": 0.0, "distinct": 5.0, "mean": 2.0}}


def test_an_append_models_whole_table_profiles_are_no_baseline_for_its_batches() -> None:
    from datetime import UTC, datetime

    from afluente.observability.monitor import profiled_added_rows
    from afluente.state.observability import MetricsRow

    def run(rows_added: int, profiled: float) -> MetricsRow:
        return MetricsRow("r", "silver.order_log", datetime.now(UTC), rows_added=rows_added,
                          profile={"order_id": {"rows": profiled, "distinct": profiled}})

    assert profiled_added_rows(run(100, 100.0))  # the first run: the table is the batch
    assert not profiled_added_rows(run(30, 130.0))  # recorded before: the whole table
    assert profiled_added_rows(run(30, 30.0))
    assert profiled_added_rows(run(30, 28.0))  # rows without column values left out
    assert profiled_added_rows(MetricsRow("r", "silver.order_log", datetime.now(UTC)))


def test_partitioned_tables_are_profiled_through_arrow(tmp_path: Path) -> None:
    rows = pa.table({"day": ["d1", "d1", "d2"], "amount": [1, 2, 5]})
    write_deltalake(tmp_path / "plain", rows)
    write_deltalake(tmp_path / "parted", rows, partition_by=["day"])
    assert plain_files(DeltaTable(str(tmp_path / "plain")))
    # `day` lives in the log and the paths, not in the files: the engine would not see it
    assert not plain_files(DeltaTable(str(tmp_path / "parted")))
