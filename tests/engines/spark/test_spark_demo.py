"""`afluente demo`'s project (SCD2 by apply_changes, merge, Python models, expectations with
quarantine and drop) built on DuckDB and on Spark `local[2]`, then run again over a second
batch of landing files: every silver and gold table holds the same content on both engines
after each run, and the same Delta schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from tests.engines.spark.conftest import DemoTwin
from tests.engines.spark.content import (
    demo_project,
    demo_tables,
    differing,
    differing_from,
    land_second_batch,
    merged,
    table_path,
)

from afluente.config import load_project
from afluente.runtime.runner import run_project

SPARK = "engine: {type: spark, master: 'local[2]', conf: {spark.sql.shuffle.partitions: 2}}"


def _run(root: Path) -> dict[str, str]:
    result = run_project(load_project(root))
    assert result.status == "success", [(str(m.ref), str(m.error)) for m in result.failed]
    return {str(m.ref): m.reason for m in result.models}


@pytest.fixture(scope="module")
def demo_runs(
    tmp_path_factory: pytest.TempPathFactory, spark_started: Any, duckdb_demo: DemoTwin
) -> dict[str, Any]:
    """The demo on Spark after the first run (differences from DuckDB's first run
    recorded), then after the second; DuckDB's is the session's `duckdb_demo`."""
    on_spark = demo_project(tmp_path_factory.mktemp("demo") / "spark", SPARK)
    _run(on_spark)
    first = differing_from(duckdb_demo.first_run, on_spark)
    tables = demo_tables(on_spark)
    land_second_batch(on_spark)
    reasons = _run(on_spark)
    return {"duckdb": duckdb_demo.root, "spark": on_spark, "first": first, "tables": tables,
            "reasons": reasons}


def test_the_first_run_writes_the_same_tables_on_both_engines(demo_runs: dict[str, Any]) -> None:
    assert len(demo_runs["tables"]) == 21, demo_runs["tables"]  # with 8 bronze: 29 tables
    assert ("gold", "fct_order_items__quarantine") in demo_runs["tables"]
    assert demo_runs["first"] == []


def test_the_incremental_run_writes_the_same_tables_on_both_engines(
    demo_runs: dict[str, Any],
) -> None:
    assert demo_runs["reasons"]["silver.orders"].startswith("incremental: ")
    assert merged(demo_runs["spark"], "silver", "orders")

    assert differing(demo_runs["duckdb"], demo_runs["spark"]) == []


def test_the_second_batch_reached_the_gold_tables_on_spark(demo_runs: dict[str, Any]) -> None:
    root = demo_runs["spark"]
    orders = DeltaTable(table_path(root, "gold", "fct_orders")).to_pyarrow_table().to_pylist()
    status = {row["order_id"]: row["status"] for row in orders}
    assert status[10] == "canceled" and status[999999] == "created"
    history = [row for row in DeltaTable(table_path(root, "gold", "dim_customer"))
               .to_pyarrow_table().to_pylist() if row["customer_id"] == 2]
    assert [(row["uf"], row["email"]) for row in history if row["is_current"]] == [
        ("AM", "novo@example.com")]
    assert len(history) >= 2


def test_each_table_has_one_delta_schema_whichever_engine_wrote_it(
    demo_runs: dict[str, Any],
) -> None:
    different = {}
    for layer, name in demo_runs["tables"]:
        schemas = [DeltaTable(table_path(demo_runs[e], layer, name)).schema().to_arrow()
                   for e in ("duckdb", "spark")]
        if schemas[0] != schemas[1]:
            different[f"{layer}.{name}"] = [
                (str(a), str(b)) for a, b in zip(*schemas, strict=False) if a != b]
    assert different == {}
