"""The same project built on DuckDB and on Spark writes the same Delta tables.

Spark writes each SQL model's Parquet files and delta-rs commits them (no delta-spark);
Python models get Spark DataFrames. Content is compared per table with an
order-independent hash of the values, and every table is read back by delta-rs at the
version the run committed."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.runtime.runner import run_project
from afluente.state import StateStore

SPARK = "engine: {type: spark, master: 'local[2]', conf: {spark.sql.shuffle.partitions: 2}}"
TABLES = [
    ("silver", "orders"), ("silver", "customers"), ("gold", "revenue_by_state"),
    ("gold", "big_orders"), ("gold", "state_orders"), ("gold", "orders_per_day"),
    ("gold", "checked_orders"), ("gold", "big_orders_pandas"),
]

BIG_ORDERS = '''import afluente


@afluente.table(inputs=["silver.orders"], description="Orders above the threshold.")
def big_orders(orders):
    return orders.filter("amount > 100")
'''
# the same function on both engines: its inputs arrive as pandas frames (`frame=`)
BIG_ORDERS_PANDAS = '''import afluente


@afluente.table(inputs=["silver.orders"], frame="pandas")
def big_orders_pandas(orders):
    big = orders[orders["amount"] > 100]
    return big[["order_id", "amount"]].reset_index(drop=True)
'''
PAID = """/* @config
kind: view
*/
SELECT o.order_id, o.amount, c.uf, o.ordered_at
FROM silver.orders AS o JOIN silver.customers AS c ON o.customer_id = c.customer_id
WHERE o.amount >= getvariable('min_amount')
"""
STATE_ORDERS = """SELECT uf, count(*) AS orders, max(amount) AS top_amount,
       string_agg(CAST(order_id AS VARCHAR), ',' ORDER BY order_id) AS ids
FROM silver.paid_orders
GROUP BY uf
"""
PER_DAY = """SELECT ordered_at, CAST(ordered_at AS TIMESTAMP) AS day_start,
       count(*) AS orders, sum(amount) AS amount,
       row_number() OVER (ORDER BY ordered_at) AS day_number
FROM silver.orders
GROUP BY ordered_at
"""
# expectations evaluated in the same pass on either engine: one row quarantined (amount
# over 200), one warned about (amount under 50), the kept rows written
CHECKED = """/* @config
expectations:
  - {name: amount_in_range, between: {column: amount, max: 200}, action: quarantine}
  - {name: not_tiny, expression: "amount >= 50", action: warn}
  - {name: has_customer, not_null: [customer_id], action: fail}
*/
SELECT order_id, customer_id, amount FROM silver.orders
"""


def make_project(root: Path, engine: str) -> Path:
    scaffold(root)
    config = root / "afluente.yml"
    text = config.read_text().replace("engine: duckdb", engine)
    config.write_text(text + "vars:\n  min_amount: 50\n")
    models = root / "models"
    (models / "gold" / "monthly_revenue.py").unlink()
    (models / "gold" / "big_orders.py").write_text(BIG_ORDERS)
    (models / "gold" / "big_orders_pandas.py").write_text(BIG_ORDERS_PANDAS)
    (models / "silver" / "paid_orders.sql").write_text(PAID)
    (models / "gold" / "state_orders.sql").write_text(STATE_ORDERS)
    (models / "gold" / "orders_per_day.sql").write_text(PER_DAY)
    (models / "gold" / "checked_orders.sql").write_text(CHECKED)
    return root


def table_path(root: Path, layer: str, name: str) -> str:
    return str(root / "warehouse" / layer / name)


def content_hash(root: Path, layer: str, name: str, version: int | None = None) -> str:
    """Order-independent hash of a table's column names and values as delta-rs reads them
    (numbers compared by value, so DuckDB's DECIMAL(38,2) sum equals Spark's DECIMAL(28,2))."""
    table = DeltaTable(table_path(root, layer, name), version=version).to_pyarrow_table()
    return table_hash(table)


def table_hash(table: pa.Table) -> str:
    """Order-independent hash of an Arrow table's column names and values."""
    rows = sorted(repr(tuple(_value(v) for v in row.values())) for row in table.to_pylist())
    return hashlib.sha256(repr((table.column_names, rows)).encode()).hexdigest()


def _value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal)):
        return str(Decimal(value).normalize())
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, spark_started: Any) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("projects")
    on_duckdb = make_project(base / "duck", "engine: duckdb")
    on_spark = make_project(base / "spark", SPARK)
    for root in (on_duckdb, on_spark):
        result = run_project(load_project(root))
        assert result.status == "success", result.error
    return on_duckdb, on_spark


@pytest.mark.parametrize(("layer", "name"), TABLES)
def test_spark_writes_the_same_tables_as_duckdb(
    built: tuple[Path, Path], layer: str, name: str
) -> None:
    on_duckdb, on_spark = built

    assert content_hash(on_spark, layer, name) == content_hash(on_duckdb, layer, name)


def test_the_tables_have_rows_and_the_view_is_no_table(built: tuple[Path, Path]) -> None:
    _, on_spark = built

    counts = {f"{layer}.{name}": len(DeltaTable(table_path(on_spark, layer, name))
                                     .to_pyarrow_table()) for layer, name in TABLES}
    assert all(count > 0 for count in counts.values()), counts
    assert not (on_spark / "warehouse" / "silver" / "paid_orders").exists()


def test_delta_rs_reads_each_table_at_the_committed_version(built: tuple[Path, Path]) -> None:
    _, on_spark = built
    for layer, name in TABLES:
        table = DeltaTable(table_path(on_spark, layer, name))
        version = table.version()
        files = table.file_uris()

        assert files and all(Path(f.removeprefix("file://")).exists() for f in files)
        assert table.history(1)[0]["operation"] in ("CREATE TABLE", "WRITE")
        assert content_hash(on_spark, layer, name, version) == content_hash(
            on_spark, layer, name)
    assert not any((on_spark / "warehouse" / "_staging").rglob("*.parquet"))


def test_a_failing_model_on_spark_leaves_its_table_at_its_previous_version(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    root = tmp_path / "spark"
    shutil.copytree(built[1], root)
    before = DeltaTable(table_path(root, "gold", "revenue_by_state")).version()
    model = root / "models" / "gold" / "revenue_by_state.sql"
    model.write_text(model.read_text().replace("sum(o.amount)", "sum(o.no_such_column)"))

    result = run_project(load_project(root), "gold.revenue_by_state")

    assert result.status != "success"
    failure = next(m for m in result.models if m.status == "failed")
    assert failure.error is not None
    assert "no_such_column" in str(failure.error)
    assert "revenue_by_state.sql:" in str(failure.error)
    assert DeltaTable(table_path(root, "gold", "revenue_by_state")).version() == before


def test_expectations_quarantine_the_same_rows_on_spark(built: tuple[Path, Path]) -> None:
    kept, quarantined, tallies = {}, {}, {}
    for root in built:
        kept[root] = sorted(
            DeltaTable(table_path(root, "gold", "checked_orders")).to_pyarrow_table()
            .column("order_id").to_pylist())
        rows = DeltaTable(table_path(root, "gold", "checked_orders__quarantine")) \
            .to_pyarrow_table().to_pylist()
        quarantined[root] = sorted((r["_rules"], r["_reason"], r["_row"]) for r in rows)
        project = load_project(root)

        with StateStore.open(project.state_url) as store:
            tallies[root] = sorted(
                (r["rule"], r["rows_evaluated"], r["rows_failed"])
                for r in store.quality_history() if r["model"] == "gold.checked_orders")
    on_duckdb, on_spark = built
    assert kept[on_duckdb] == [10, 11, 12]  # order 13 (210.00) quarantined
    assert kept[on_spark] == kept[on_duckdb]
    assert [q[0] for q in quarantined[on_duckdb]] == [["amount_in_range"]]
    assert quarantined[on_spark] == quarantined[on_duckdb]
    assert ("not_tiny", 4, 1) in tallies[on_duckdb]
    assert tallies[on_spark] == tallies[on_duckdb]
