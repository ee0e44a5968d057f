"""The contract suite's project: one small project with a model of every kind, every
expectation action, a contract, schema evolution and bad input, built twice per engine.

Run 1 builds everything from `landing/orders.csv` (orders 10-13). Then a second orders file
lands (order 10 changes, 14 is new, 12 is deleted by a negative amount) with a new column
`channel`, a few models are edited to be wrong, and run 2 builds again: the incremental kinds
fold the new rows in, the schema-evolution models meet the new column, and the broken models
fail and keep their first version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.runtime.runner import RunResult, run_project

TYPED = """(SELECT CAST(order_id AS INTEGER) AS order_id,
        CAST(customer_id AS INTEGER) AS customer_id,
        CAST(replace(amount, ',', '.') AS DECIMAL(18, 2)) AS amount,
        CAST(ordered_at AS DATE) AS ordered_at
 FROM bronze.orders) AS o"""
RAW = "SELECT order_id, customer_id, amount, ordered_at FROM bronze.orders"

MODELS: dict[str, tuple[str, str]] = {
    # layer.name: (config header, query)
    "silver.paid_orders": ("kind: view", "SELECT order_id, amount FROM silver.orders "
                                         "WHERE amount >= 50"),
    "gold.paid_total": ("kind: full", "SELECT count(*) AS orders, sum(amount) AS total, "
                                      "avg(amount) AS mean, "
                                      "row_number() OVER (ORDER BY count(*)) AS n "
                                      "FROM silver.paid_orders"),
    "gold.order_log": ("kind: append", f"SELECT order_id, amount, ordered_at FROM {TYPED}"),
    "gold.orders_by_id": ("kind: merge\nunique_key: order_id\ndelete_when: amount < 0",
                          f"SELECT * FROM {TYPED}"),
    "gold.customer_history": (
        "kind: apply_changes\nkeys: customer_id\nsequence_by: seq\nscd_type: 2\n"
        "apply_as_deletes: amount < 0",
        f"SELECT customer_id, order_id AS seq, amount FROM {TYPED}"),
    "gold.customer_latest": (
        "kind: apply_changes\nkeys: customer_id\nsequence_by: seq\n"
        "apply_as_deletes: amount < 0\nexcept_columns: [ordered_at]",
        f"SELECT customer_id, order_id AS seq, amount, ordered_at FROM {TYPED}"),
    "gold.customer_snapshot": (
        "kind: snapshot\nkeys: customer_id\ntrack_columns: [top_amount]",
        f"SELECT customer_id, count(*) AS orders, max(amount) AS top_amount FROM {TYPED} "
        "WHERE amount >= 0 GROUP BY customer_id"),
    "gold.orders_per_day": ("kind: time_range\ntime_column: ordered_at\npartition_by: day\n"
                            "lookback: 1", f"SELECT order_id, amount, ordered_at FROM {TYPED}"),
    "gold.keyed": ("kind: merge\nunique_key: k\non_null_key: quarantine",
                   "SELECT CASE WHEN order_id = 11 THEN NULL ELSE order_id END AS k, amount "
                   f"FROM {TYPED} WHERE order_id IN (11, 13)"),
    # expectations: warn, drop and quarantine in one pass; fail on a model of its own
    "gold.checked": (
        "expectations:\n"
        "  - {name: not_tiny, expression: \"amount >= 50\", action: warn}\n"
        "  - {name: not_customer_2, expression: \"customer_id <> 2\", action: drop}\n"
        "  - {name: amount_in_range, between: {column: amount, max: 200}, "
        "action: quarantine}",
        "SELECT order_id, customer_id, amount FROM silver.orders"),
    "gold.guarded": ("expectations:\n  - {name: no_refunds, expression: \"amount >= 0\", "
                     "action: fail}", f"SELECT order_id, amount FROM {TYPED}"),
    "gold.contracted": (
        "contract: enforced\ncolumns:\n  order_id: {type: int4}\n"
        "  amount: {type: \"DECIMAL(18,2)\"}",
        f"SELECT order_id, amount FROM {TYPED}"),
    # schema evolution: bronze.orders gains `channel` in run 2
    "gold.evolving": ("kind: append\non_schema_change: append_new_columns",
                      "SELECT * EXCLUDE (_source, _ingested_at, _rescued_data) "
                      "FROM bronze.orders"),
    "gold.synced": ("kind: append\non_schema_change: sync",
                    "SELECT * EXCLUDE (_source, _ingested_at, _rescued_data) "
                    "FROM bronze.orders"),
    "gold.refused": ("kind: append", "SELECT * EXCLUDE (_source, _ingested_at, "
                                     "_rescued_data) FROM bronze.orders"),
    # bad input in run 2
    "gold.orders_by_customer": (
        "kind: merge\nunique_key: customer_id",
        f"SELECT customer_id, order_id, amount FROM {TYPED} "
        "WHERE amount > 50 OR amount < 0"),
    "gold.unknown_column": ("kind: full", "SELECT order_id,\n       amount\nFROM silver.orders"),
    "gold.bad_delete": ("kind: merge\nunique_key: order_id",
                        f"SELECT order_id, amount FROM {TYPED} WHERE order_id IN (11, 13)"),
}
# run 2: order 10 changes, 14 is new (a day after the newest), 12 is deleted (negative
# amount); the file has a column bronze.orders does not have yet
MORE_ORDERS = ("order_id;customer_id;amount;ordered_at;channel\n10;1;99,00;2026-01-05;web\n"
               "14;2;10,00;2026-02-04;shop\n12;1;-1,00;2026-02-01;web\n")
# run 2: models edited to be wrong (a new definition: each would rebuild)
BROKEN: dict[str, tuple[str, str]] = {
    "gold.contracted": (MODELS["gold.contracted"][0],
                        f"SELECT order_id, CAST(amount AS DOUBLE) AS amount, 1 AS note "
                        f"FROM {TYPED}"),
    "gold.unknown_column": ("kind: full",
                            "SELECT order_id,\n       no_such_column\nFROM silver.orders"),
    "gold.bad_delete": ("kind: merge\nunique_key: order_id\ndelete_when: no_such_column < 0",
                        MODELS["gold.bad_delete"][1]),
}


def write_model(root: Path, name: str, header: str, query: str) -> None:
    layer, table = name.split(".")
    (root / "models" / layer / f"{table}.sql").write_text(f"/* @config\n{header}\n*/\n{query}\n")


def make_project(root: Path, engine_config: str) -> Path:
    scaffold(root)
    config = root / "afluente.yml"
    config.write_text(config.read_text().replace("engine: duckdb", engine_config))
    for scaffolded in ("gold/monthly_revenue.py", "gold/revenue_by_state.sql",
                       "silver/customers.sql"):
        (root / "models" / scaffolded).unlink()
    for name, (header, query) in MODELS.items():
        write_model(root, name, header, query)
    return root


def land_and_break(root: Path) -> None:
    (root / "landing" / "orders_2.csv").write_text(MORE_ORDERS)
    for name, (header, query) in BROKEN.items():
        write_model(root, name, header, query)


@dataclass(frozen=True)
class Built:
    root: Path
    runs: tuple[RunResult, RunResult]


def build_twice(root: Path) -> Built:
    first = run_project(load_project(root))
    land_and_break(root)
    second = run_project(load_project(root))
    return Built(root, (first, second))
