"""Every kind x every action, on real Delta tables built from the starter project's orders.

The first run builds each kind with a rule all four orders pass; a second file then brings
order 14 with an amount of 5000, which fails the rule. Incremental kinds read only that file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import ConfigError
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.runtime.backfill import BackfillRequest, run_backfill
from afluente.runtime.quality_check import check_project
from afluente.runtime.query import query_project
from afluente.storage import Warehouse

ORDERS = TableRef("silver", "orders")
QUARANTINE = TableRef("silver", "orders__quarantine")
SQL = """
SELECT CAST(order_id AS INTEGER) AS order_id, CAST(customer_id AS INTEGER) AS customer_id,
       CAST(replace(amount, ',', '.') AS DECIMAL(18, 2)) AS amount,
       CAST(ordered_at AS DATE) AS ordered_at
FROM bronze.orders
"""
KINDS = {
    "full": "kind: full\n",
    "view": "kind: view\n",
    "append": "kind: append\n",
    "merge": "kind: merge\nunique_key: order_id\n",
    "time_range": "kind: time_range\ntime_column: ordered_at\n",
    "apply_changes": "kind: apply_changes\nkeys: order_id\nsequence_by: customer_id\n",
    "snapshot": "kind: snapshot\nkeys: order_id\n",
}
BAD_ORDER = "14;2;5000,00;2026-03-01"


def make(tmp_path: Path, kind: str, action: str) -> Path:
    root = tmp_path / "shop"
    scaffold(root, name="shop")
    (root / "models" / "silver" / "orders.sql").write_text(
        f"/* @config\n{KINDS[kind]}expectations:\n"
        f"  - {{name: small, expression: 'amount < 1000', action: {action}}}\n*/\n{SQL}"
    )
    return root


def add_bad_order(root: Path) -> None:
    (root / "landing" / "orders_2.csv").write_text(
        f"order_id;customer_id;amount;ordered_at\n{BAD_ORDER}\n15;1;9,90;2026-03-02\n"
    )


def order_ids(root: Path) -> list[int]:
    table = query_project(load_project(root), "SELECT order_id FROM silver.orders ORDER BY 1")
    return [int(v) for v in table["order_id"].to_pylist()]


def latest_result(root: Path) -> dict[str, object]:
    table = query_project(load_project(root), "SELECT * FROM afluente.quality_results "
                          "WHERE rule = 'small' ORDER BY ts DESC, id DESC LIMIT 1")
    return table.to_pylist()[0]


def build(root: Path) -> tuple[str, str]:
    result = run_project(load_project(root))
    model = next(m for m in result.models if m.ref == ORDERS)
    return model.status, model.reason


@pytest.mark.parametrize("kind", list(KINDS))
def test_warn_keeps_the_row_and_records_it(tmp_path: Path, kind: str) -> None:
    root = make(tmp_path, kind, "warn")
    assert build(root)[0] == "success"
    add_bad_order(root)
    assert build(root)[0] == "success"
    assert order_ids(root) == [10, 11, 12, 13, 14, 15]
    assert latest_result(root)["rows_failed"] == 1
    assert json.loads(str(latest_result(root)["sample"]))[0]["order_id"] == 14


@pytest.mark.parametrize("kind", list(KINDS))
def test_drop_removes_the_row(tmp_path: Path, kind: str) -> None:
    root = make(tmp_path, kind, "drop")
    build(root)
    add_bad_order(root)
    assert build(root)[0] == "success"
    assert order_ids(root) == [10, 11, 12, 13, 15]
    assert latest_result(root)["rows_failed"] == 1
    assert not Warehouse(load_project(root).warehouse_uri).exists(QUARANTINE)


@pytest.mark.parametrize("kind", list(KINDS))
def test_quarantine_moves_the_row_beside_the_table(tmp_path: Path, kind: str) -> None:
    root = make(tmp_path, kind, "quarantine")
    build(root)
    warehouse = Warehouse(load_project(root).warehouse_uri)
    assert warehouse.dataset(QUARANTINE).count_rows() == 0  # exists, empty, from the first run
    add_bad_order(root)
    assert build(root)[0] == "success"
    assert order_ids(root) == [10, 11, 12, 13, 15]
    held = warehouse.dataset(QUARANTINE).to_table().to_pylist()
    assert [json.loads(str(r["_row"]))["order_id"] for r in held] == [14]
    assert held[0]["_rules"] == ["small"]
    assert held[0]["_reason"] == "small: expression `amount < 1000` is false"
    assert held[0]["_version"] == (None if kind == "view" else warehouse.version(ORDERS))


@pytest.mark.parametrize("kind", list(KINDS))
def test_fail_stops_and_leaves_the_previous_version(tmp_path: Path, kind: str) -> None:
    root = make(tmp_path, kind, "fail")
    assert build(root)[0] == "success"
    warehouse = Warehouse(load_project(root).warehouse_uri)
    before = warehouse.version(ORDERS)
    add_bad_order(root)
    status, reason = build(root)
    assert status == "failed"
    assert "expectation failed, nothing committed: `small` failed: 1 of " in reason
    assert '"order_id": 14' in reason
    assert "orders.sql" in reason
    assert warehouse.version(ORDERS) == before
    if kind != "view":
        kept = warehouse.dataset(ORDERS, before).to_table()
        assert sorted(kept["order_id"].to_pylist()) == [10, 11, 12, 13]


@pytest.mark.parametrize("kind", ["view", "merge", "apply_changes"])
def test_check_evaluates_the_rows_readers_see(tmp_path: Path, kind: str) -> None:
    root = make(tmp_path, kind, "warn")
    add_bad_order(root)
    build(root)
    found = {r.rule: r for r in check_project(load_project(root))}
    assert (found["small"].evaluated, found["small"].failed) == (6, 1)
    assert latest_result(root)["run_id"].startswith("check-")


def test_python_view_readers_see_only_the_kept_rows(tmp_path: Path) -> None:
    root = make(tmp_path, "full", "warn")
    (root / "models" / "gold").mkdir(exist_ok=True)
    (root / "models" / "gold" / "numbers.py").write_text(
        "import afluente\n\n"
        "@afluente.table(kind='view', expectations=[{'name': 'pos', 'expression': 'x > 0',"
        " 'action': 'drop'}])\n"
        "def numbers():\n"
        "    import pyarrow as pa\n"
        "    return pa.table({'x': [1, -2, 3]})\n"
    )
    (root / "models" / "gold" / "total.sql").write_text("SELECT sum(x) AS s FROM gold.numbers\n")
    assert run_project(load_project(root)).status == "success"
    total = Warehouse(load_project(root).warehouse_uri).dataset(TableRef("gold", "total"))
    assert total.to_table().to_pylist() == [{"s": 4}]


def test_backfill_refuses_a_time_range_model_with_expectations(tmp_path: Path) -> None:
    root = make(tmp_path, "time_range", "drop")
    build(root)
    before = Warehouse(load_project(root).warehouse_uri).version(ORDERS)
    with pytest.raises(ConfigError) as refused:
        run_backfill(load_project(root), BackfillRequest("silver.orders", "2026-01-01",
                                                         "2026-01-31"))
    message = refused.value.render()
    assert "`silver.orders` has expectations, which `afluente backfill` does not evaluate" in (
        message)
    assert "orders.sql" in message and "--full-refresh --select silver.orders" in message
    assert Warehouse(load_project(root).warehouse_uri).version(ORDERS) == before
