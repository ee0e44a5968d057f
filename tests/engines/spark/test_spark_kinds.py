"""The incremental kinds on Spark write the same Delta tables as on DuckDB.

One small project with a model of each kind over `bronze.orders` is built on each engine,
then a second orders file lands (an update, a new order, a delete) and both run again. After
each run every table holds the same content on both engines (bookkeeping columns included)
at the same Delta version; a snapshot's validity times are the run's start times, so those
two columns are compared by their pattern, not their values."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from tests.engines.spark.test_spark_project import SPARK, content_hash, table_path

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.runtime.runner import run_project

TYPED = """(SELECT CAST(order_id AS INTEGER) AS order_id,
        CAST(customer_id AS INTEGER) AS customer_id,
        CAST(replace(amount, ',', '.') AS DECIMAL(18, 2)) AS amount,
        CAST(ordered_at AS DATE) AS ordered_at
 FROM bronze.orders) AS o"""
MODELS = {
    "order_log": "kind: append",
    "orders_by_id": "kind: merge\nunique_key: order_id\ndelete_when: amount < 0",
    "customer_history": "kind: apply_changes\nkeys: customer_id\nsequence_by: seq\n"
                        "scd_type: 2\napply_as_deletes: amount < 0",
    "customer_latest": "kind: apply_changes\nkeys: customer_id\nsequence_by: seq\n"
                       "apply_as_deletes: amount < 0\nexcept_columns: [ordered_at]",
    "customer_snapshot": "kind: snapshot\nkeys: customer_id\ntrack_columns: [top_amount]",
    "orders_per_day": "kind: time_range\ntime_column: ordered_at\npartition_by: day\n"
                      "lookback: 1",
}
QUERIES = {
    "order_log": f"SELECT order_id, amount, ordered_at FROM {TYPED}",
    "orders_by_id": f"SELECT * FROM {TYPED}",
    "customer_history": f"SELECT customer_id, order_id AS seq, amount FROM {TYPED}",
    "customer_latest": f"SELECT customer_id, order_id AS seq, amount, ordered_at FROM {TYPED}",
    "customer_snapshot": f"SELECT customer_id, count(*) AS orders, max(amount) AS top_amount "
                         f"FROM {TYPED} WHERE amount >= 0 GROUP BY customer_id",
    "orders_per_day": f"SELECT order_id, amount, ordered_at FROM {TYPED}",
}
# order 10 changes, 14 is new (a day after the newest), 12 is deleted (negative amount)
MORE_ORDERS = ("order_id;customer_id;amount;ordered_at\n10;1;99,00;2026-01-05\n"
               "14;2;10,00;2026-02-04\n12;1;-1,00;2026-02-01\n")
VALIDITY = {"valid_from", "valid_to"}


def make_project(root: Path, engine: str) -> Path:
    scaffold(root)
    config = root / "afluente.yml"
    config.write_text(config.read_text().replace("engine: duckdb", engine))
    (root / "models" / "gold" / "monthly_revenue.py").unlink()
    for name, header in MODELS.items():
        (root / "models" / "gold" / f"{name}.sql").write_text(
            f"/* @config\n{header}\n*/\n{QUERIES[name]}\n")
    return root


def build(root: Path) -> dict[str, int]:
    result = run_project(load_project(root))
    assert result.status == "success", result.error
    return {name: DeltaTable(table_path(root, "gold", name)).version() for name in MODELS}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, spark_started: Any
          ) -> dict[str, tuple[Path, list[dict[str, int]]]]:
    base = tmp_path_factory.mktemp("kinds")
    projects = {"duckdb": make_project(base / "duck", "engine: duckdb"),
                "spark": make_project(base / "spark", SPARK)}
    runs: dict[str, tuple[Path, list[dict[str, int]]]] = {}
    for engine, root in projects.items():
        first = build(root)
        (root / "landing" / "orders_2.csv").write_text(MORE_ORDERS)
        runs[engine] = (root, [first, build(root)])
    return runs


def same_content(duck: Path, spark: Path, name: str, version: int) -> tuple[str, str]:
    if name != "customer_snapshot":
        return (content_hash(duck, "gold", name, version),
                content_hash(spark, "gold", name, version))
    return snapshot_shape(duck, version), snapshot_shape(spark, version)


def snapshot_shape(root: Path, version: int) -> str:
    """The snapshot's rows with each validity time replaced by its rank among them."""
    table = DeltaTable(table_path(root, "gold", "customer_snapshot"),
                       version=version).to_pyarrow_table()
    times = sorted({t for c in VALIDITY for t in table[c].to_pylist() if t is not None})
    rows = sorted(
        repr(tuple(times.index(v) if k in VALIDITY and v is not None else str(v)
                   for k, v in row.items()))
        for row in table.to_pylist())
    return repr((table.column_names, rows))


@pytest.mark.parametrize("name", list(MODELS))
def test_each_kind_writes_the_same_table_on_spark_as_on_duckdb(
    built: dict[str, tuple[Path, list[dict[str, int]]]], name: str
) -> None:
    duck, duck_versions = built["duckdb"]
    spark, spark_versions = built["spark"]

    assert [v[name] for v in spark_versions] == [v[name] for v in duck_versions]
    for run in duck_versions:
        duckdb_content, spark_content = same_content(duck, spark, name, run[name])
        assert spark_content == duckdb_content


def test_the_second_run_changed_each_table(
    built: dict[str, tuple[Path, list[dict[str, int]]]]
) -> None:
    spark, (first, second) = built["spark"]

    assert all(second[name] > first[name] for name in MODELS), (first, second)
    merged = DeltaTable(table_path(spark, "gold", "orders_by_id")).to_pyarrow_table()
    amounts = {r["order_id"]: str(r["amount"]) for r in merged.to_pylist()}
    assert amounts == {10: "99.00", 11: "80.00", 13: "210.00", 14: "10.00"}
    history = DeltaTable(table_path(spark, "gold", "customer_history")).to_pyarrow_table()
    assert {"__cdc_sequence", "__cdc_deleted", "__cdc_visible"} <= set(history.column_names)


def test_a_failing_incremental_model_on_spark_leaves_its_table_at_its_previous_version(
    built: dict[str, tuple[Path, list[dict[str, int]]]], tmp_path: Path
) -> None:
    root = tmp_path / "spark"
    shutil.copytree(built["spark"][0], root)
    before = DeltaTable(table_path(root, "gold", "orders_by_id")).version()
    (root / "landing" / "orders_3.csv").write_text(
        "order_id;customer_id;amount;ordered_at\n15;1;5,00;2026-02-05\n15;2;6,00;2026-02-05\n")

    result = run_project(load_project(root), "+gold.orders_by_id")

    failure = next(m for m in result.models if m.status == "failed")
    assert "duplicated value(s) of unique key (order_id), e.g. order_id=15 (2 rows)" in str(
        failure.error)
    assert DeltaTable(table_path(root, "gold", "orders_by_id")).version() == before


def test_a_bad_delete_when_on_spark_names_the_model_and_the_column(
    built: dict[str, tuple[Path, list[dict[str, int]]]], tmp_path: Path
) -> None:
    root = tmp_path / "spark"
    shutil.copytree(built["spark"][0], root)
    before = DeltaTable(table_path(root, "gold", "orders_by_id")).version()
    model = root / "models" / "gold" / "orders_by_id.sql"  # a new definition: a rebuild
    model.write_text("/* @config\nkind: merge\nunique_key: order_id\n"
                     f"delete_when: no_such_column < 0\n*/\nSELECT * FROM {TYPED}\n"
                     "WHERE order_id IN (11, 13)\n")

    result = run_project(load_project(root), "gold.orders_by_id")

    failure = next(m for m in result.models if m.status == "failed")
    assert "an incremental step failed on Spark" in str(failure.error)
    assert "`no_such_column` cannot be resolved" in str(failure.error)
    assert "delete_when" in str(failure.error)  # the hint
    assert DeltaTable(table_path(root, "gold", "orders_by_id")).version() == before


def test_a_full_refresh_on_spark_rebuilds_the_same_change_history(
    built: dict[str, tuple[Path, list[dict[str, int]]]], tmp_path: Path
) -> None:
    root = tmp_path / "spark"
    shutil.copytree(built["spark"][0], root)
    before = DeltaTable(table_path(root, "gold", "customer_history")).version()

    result = run_project(load_project(root), "gold.customer_history", full_refresh=True)

    assert result.status == "success", result.error
    assert DeltaTable(table_path(root, "gold", "customer_history")).version() == before + 1
    # apply_changes is order- and batch-independent: all events at once, the same table
    assert content_hash(root, "gold", "customer_history") == content_hash(
        root, "gold", "customer_history", before)


def test_null_keys_are_quarantined_alike_on_spark(
    built: dict[str, tuple[Path, list[dict[str, int]]]], tmp_path: Path
) -> None:
    quarantined = {}
    for engine, (source, _) in built.items():
        root = tmp_path / engine
        shutil.copytree(source, root)
        (root / "models" / "gold" / "keyed.sql").write_text(
            "/* @config\nkind: merge\nunique_key: k\non_null_key: quarantine\n*/\n"
            "SELECT CASE WHEN order_id = 11 THEN NULL ELSE order_id END AS k, amount "
            f"FROM {TYPED} WHERE order_id IN (11, 13)\n")

        result = run_project(load_project(root), "gold.keyed")

        assert result.status == "success", result.error
        rows = DeltaTable(table_path(root, "gold", "keyed__quarantine")).to_pyarrow_table()
        quarantined[engine] = [(r["_rules"], r["_reason"], r["_row"], r["_key"])
                               for r in rows.to_pylist()]
    assert quarantined["duckdb"] == [
        (["null_key"], "null_key: NULL in key column(s) k", '{"k":null,"amount":80.00}', None)]
    assert quarantined["spark"] == quarantined["duckdb"]
    assert content_hash(tmp_path / "spark", "gold", "keyed") == content_hash(
        tmp_path / "duckdb", "gold", "keyed")
