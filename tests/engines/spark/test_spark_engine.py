"""The Spark engine's operations against real Delta tables and a real (shared) Spark."""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from afluente.engines.spark_engine import SparkEngine
from afluente.errors import EngineError, Location
from afluente.model import TableRef
from afluente.storage.arrow_dataset import delta_dataset

ORDERS = TableRef("silver", "orders")
HERE = Location("models/gold/m.sql")


def orders_table(path: Path) -> DeltaTable:
    """A Delta table partitioned by `uf`, whose second version added a column."""
    first = pa.table({"order_id": [1, 2, 3], "uf": ["SP", "RJ", "SP"],
                      "amount": pa.array([10, 20, 30], pa.int64())})
    write_deltalake(str(path), first, partition_by=["uf"])
    second = pa.table({"order_id": [4], "uf": ["MG"], "amount": pa.array([40], pa.int64()),
                       "note": ["late"]})
    write_deltalake(str(path), second, mode="append", schema_mode="merge")
    return DeltaTable(str(path))


def test_a_partitioned_evolved_delta_version_reads_as_delta_reads_it(
    spark_engine: SparkEngine, tmp_path: Path
) -> None:
    table = orders_table(tmp_path / "orders")
    spark_engine.attach_table(ORDERS, delta_dataset(table))

    rows = spark_engine.query("SELECT * FROM silver.orders ORDER BY order_id").to_pylist()

    assert rows == table.to_pyarrow_table().sort_by("order_id").select(
        ["order_id", "uf", "amount", "note"]).to_pylist()
    assert rows[0] == {"order_id": 1, "uf": "SP", "amount": 10, "note": None}
    assert rows[3]["note"] == "late"


def test_an_older_version_reads_through_its_own_file_list(
    spark_engine: SparkEngine, tmp_path: Path
) -> None:
    orders_table(tmp_path / "orders")
    first = DeltaTable(str(tmp_path / "orders"), version=0)
    spark_engine.attach_table(ORDERS, delta_dataset(first))

    got = spark_engine.query("SELECT count(*) AS n, sum(amount) AS s FROM silver.orders")

    assert got.to_pylist() == [{"n": 3, "s": 60}]


def test_write_parquet_writes_utc_microsecond_files_and_counts_rows(
    spark_engine: SparkEngine, tmp_path: Path
) -> None:
    spark_engine.attach_table(ORDERS, pa.table({"order_id": [1, 2, 3]}))
    sql = ("SELECT order_id, TIMESTAMPTZ '2024-01-01 10:00:00+00' AS at, "
           "TIMESTAMP '2024-01-01 10:00:00' AS wall, DATE '2024-01-01' AS day "
           "FROM silver.orders")

    written = spark_engine.write_parquet(sql, HERE, "gold.m", tmp_path / "stage")

    assert written is not None
    files, rows = written
    assert rows == 3 and files
    assert all(f.suffix == ".parquet" and f.is_relative_to(tmp_path / "stage") for f in files)
    schema = pq.read_schema(files[0])
    assert schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("wall").type == pa.timestamp("us")
    assert pq.read_table(files).column("at").to_pylist()[0].hour == 10


def test_nested_results_go_through_the_delta_writer(
    spark_engine: SparkEngine, tmp_path: Path
) -> None:
    sql = "SELECT [1, 2] AS items"

    assert spark_engine.write_parquet(sql, HERE, "gold.m", tmp_path / "stage") is None
    assert spark_engine.run_sql(sql, HERE, "gold.m").reader.read_all().to_pylist() == [
        {"items": [1, 2]}
    ]


def test_materialize_with_no_data_gives_the_columns_and_release_drops_it(
    spark_engine: SparkEngine,
) -> None:
    spark_engine.attach_table(ORDERS, pa.table({"order_id": [1, 2]}))
    ref = TableRef("gold", "m")
    spark_engine.materialize(ref, "SELECT order_id, 'x' AS tag FROM silver.orders WITH NO DATA",
                             HERE, "gold.m")

    assert spark_engine.query("SELECT * FROM gold.m").column_names == ["order_id", "tag"]
    assert spark_engine.query("SELECT * FROM gold.m").num_rows == 0
    spark_engine.release(ref)
    with pytest.raises(EngineError, match=r"query failed: .*TABLE_OR_VIEW_NOT_FOUND"):
        spark_engine.query("SELECT * FROM gold.m")


def test_a_spark_error_points_at_the_line_in_the_model(
    spark_engine: SparkEngine, tmp_path: Path
) -> None:
    spark_engine.attach_table(ORDERS, pa.table({"order_id": [1], "amount": [5]}))
    file = tmp_path / "m.sql"
    sql = "SELECT order_id,\n       sum(amount_typo) AS total\nFROM silver.orders\nGROUP BY 1\n"
    file.write_text("/* @config\n*/\n" + sql)

    with pytest.raises(EngineError) as raised:
        spark_engine.run_sql(sql, Location(file), "gold.m")

    assert raised.value.location == Location(file, 4, 12)
    assert "amount_typo" in raised.value.message
    assert "SQLSTATE" not in raised.value.message
    assert "previous version" in (raised.value.hint or "")


def load_model(tmp_path: Path, body: str) -> tuple[Any, Location]:
    file = tmp_path / "model_fn.py"
    file.write_text(body)
    spec = importlib.util.spec_from_file_location("model_fn", file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model, Location(file)


def test_python_models_get_spark_dataframes(spark_engine: SparkEngine, tmp_path: Path) -> None:
    spark_engine.attach_table(ORDERS, pa.table({"order_id": [1, 2, 3], "amount": [5, 50, 500]}))
    model, origin = load_model(tmp_path, (
        "def model(orders):\n"
        "    assert type(orders).__name__ == 'DataFrame'\n"
        "    return orders.filter('amount > 10').select('order_id')\n"
    ))

    stream = spark_engine.run_python(model, [ORDERS], ["orders"], origin, "gold.m")

    assert sorted(stream.reader.read_all().column("order_id").to_pylist()) == [2, 3]


def test_a_failing_python_model_names_its_line(spark_engine: SparkEngine, tmp_path: Path) -> None:
    spark_engine.attach_table(ORDERS, pa.table({"order_id": [1]}))
    model, origin = load_model(tmp_path, (
        "def model(orders):\n"
        "    total = orders.count()\n"
        "    return orders.query('x', 'SELECT 1')  # a DuckDB relation's method\n"
    ))

    with pytest.raises(EngineError) as raised:
        spark_engine.run_python(model, [ORDERS], None, origin, "gold.m")

    assert raised.value.location == Location(origin.file, 3)
    assert raised.value.message == (
        "Python model raised PySparkAttributeError: [ATTRIBUTE_NOT_SUPPORTED] "
        "Attribute `query` is not supported."
    )
    assert "Spark DataFrames on this engine" in (raised.value.hint or "")


def test_read_only_query_reads_warehouse_files_and_nothing_else(
    spark_engine: SparkEngine, tmp_path: Path
) -> None:
    table = orders_table(tmp_path / "warehouse" / "orders")
    file = table.file_uris()[0].removeprefix("file://")
    spark_engine.attach_table(ORDERS, delta_dataset(table))

    got = spark_engine.read_only_query(
        f"SELECT count(*) AS n FROM read_parquet('{file}')", [str(tmp_path / "warehouse")]
    )

    assert got.to_pylist()[0]["n"] >= 1
    with pytest.raises(EngineError, match="cannot read"):
        spark_engine.read_only_query(f"SELECT * FROM read_parquet('{file}')", [str(tmp_path / "x")])


def test_interrupt_cancels_the_running_query(spark_engine: SparkEngine) -> None:
    spark_engine.attach_table(ORDERS, pa.table({"order_id": list(range(3000))}))
    failures: list[EngineError] = []

    def run() -> None:  # 27 billion rows: runs until interrupted
        try:
            spark_engine.query("SELECT count(*) FROM silver.orders AS a, silver.orders AS b, "
                               "silver.orders AS c")
        except EngineError as exc:
            failures.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    tracker = spark_engine.session.sparkContext.statusTracker()
    while worker.is_alive() and not tracker.getActiveJobsIds():
        time.sleep(0.2)  # until Spark runs the job
    spark_engine.interrupt()
    worker.join()

    assert len(failures) == 1
    assert failures[0].message.startswith("query failed: ")
    assert "cancelled" in failures[0].message, failures[0].message


def test_a_models_result_has_duckdbs_types_where_sparks_differ(
    spark_engine: SparkEngine
) -> None:
    spark_engine.attach_table(ORDERS, pa.table({
        "uf": ["SP", "SP", "RJ"], "amount": pa.array([10, 20, 5], pa.decimal128(18, 2))}))
    sql = ("SELECT uf, sum(amount) AS total, avg(amount) AS mean, "
           "row_number() OVER (ORDER BY uf) AS n FROM silver.orders GROUP BY uf")

    result = spark_engine.run_sql(sql, HERE, "gold.m").reader.read_all().sort_by("uf")

    # Spark alone: DECIMAL(28,2), DECIMAL(22,6), INT
    assert {f.name: f.type for f in result.schema} == {
        "uf": pa.string(), "total": pa.decimal128(38, 2), "mean": pa.float64(),
        "n": pa.int64()}
    assert result.to_pylist() == [
        {"uf": "RJ", "total": Decimal("5.00"), "mean": 5.0, "n": 1},
        {"uf": "SP", "total": Decimal("30.00"), "mean": 15.0, "n": 2}]


def test_a_query_duckdb_cannot_type_keeps_sparks_types(
    spark_engine: SparkEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spark_engine.attach_table(ORDERS, pa.table({"order_id": [1, 2]}))
    sql = "SELECT order_id, crc32('a') AS check FROM silver.orders"  # no crc32 in DuckDB

    with caplog.at_level(logging.DEBUG, logger="afluente.engines.spark"):
        written = spark_engine.write_parquet(sql, HERE, "gold.m", tmp_path / "stage")

    assert written is not None
    assert pq.read_table(written[0]).column("check").to_pylist() == [3904355907] * 2
    assert "`gold.m`: DuckDB cannot type the query" in caplog.text
    assert "Spark's types kept" in caplog.text
