"""The same project built on DuckDB and on Spark writes the same Delta tables.

Spark writes each SQL model's Parquet files and delta-rs commits them (no delta-spark);
Python models get Spark DataFrames. Content is compared per table with an
order-independent hash of the values, and every table is read back by delta-rs at the
version the run committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from tests.engines.spark.content import content_hash, table_path

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.runtime.runner import run_project

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


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, spark_started: Any, duckdb_project: Path
) -> tuple[Path, Path]:
    on_spark = make_project(tmp_path_factory.mktemp("projects") / "spark", SPARK)
    result = run_project(load_project(on_spark))
    assert result.status == "success", result.error
    return duckdb_project, on_spark


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
