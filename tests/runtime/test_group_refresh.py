"""`full` aggregates over merge-maintained inputs recompute only the groups changed rows touch,
and hold exactly what a full rebuild holds (runtime/group_refresh.py, docs/kinds.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import plan_project, run_project
from afluente.storage import Warehouse

from .conftest import write

SILVER = {
    "orders": ("kind: merge\nunique_key: order_id\ndelete_when: amount < 0",
               "SELECT CAST(order_id AS INTEGER) AS order_id, "
               "CAST(customer_id AS INTEGER) AS customer_id, "
               "CAST(replace(amount, ',', '.') AS DECIMAL(18, 2)) AS amount, "
               "CAST(ordered_at AS DATE) AS ordered_at FROM bronze.orders"),
    "customers": ("kind: merge\nunique_key: customer_id\ndedupe_by: _ingested_at",
                  "SELECT CAST(customer_id AS INTEGER) AS customer_id, upper(uf) AS uf, "
                  "_ingested_at FROM bronze.customers"),
}
GOLD = {
    # one input; every decomposable aggregate and count(DISTINCT), which is not
    "by_customer_month": (
        "SELECT o.customer_id, date_trunc('month', o.ordered_at) AS month, count(*) AS n, "
        "sum(o.amount) AS total, min(o.amount) AS low, max(o.amount) AS high, "
        "avg(o.amount) AS mean, count(DISTINCT o.ordered_at) AS days "
        "FROM silver.orders o GROUP BY ALL"),
    # two inputs that both change, joined; the group key comes from both
    "by_state_month": (
        "SELECT c.uf, date_trunc('month', o.ordered_at) AS month, sum(o.amount) AS total, "
        "count(*) AS n FROM silver.orders o JOIN silver.customers c "
        "ON c.customer_id = o.customer_id GROUP BY c.uf, month HAVING count(*) > 0"),
    # customers without orders keep their row (LEFT JOIN, keys from the kept side)
    "customer_totals": (
        "SELECT c.customer_id, c.uf, count(o.order_id) AS n, "
        "coalesce(sum(o.amount), 0) AS total FROM silver.customers c "
        "LEFT JOIN silver.orders o ON o.customer_id = c.customer_id AND o.amount > 50 "
        "GROUP BY c.customer_id, c.uf"),
    # not by group: a window function
    "ranked": ("SELECT o.order_id, row_number() OVER (ORDER BY o.order_id) AS n "
               "FROM silver.orders o"),
}
# run 2: order 10 moves from customer 1 to 2, 12 is deleted (its group vanishes), 13 changes
# amount, 14 and 15 are new (new months, a new customer); customer 2 moves RJ -> SP
MORE_ORDERS = ("order_id;customer_id;amount;ordered_at\n10;2;99,00;2026-01-05\n"
               "12;1;-1,00;2026-02-01\n13;3;55,00;2026-02-03\n14;2;10,00;2026-03-04\n"
               "15;4;70,00;2026-04-01\n")
MORE_CUSTOMERS = "customer_id,name,email,uf\n2,Bruno Lima,bruno@example.com,sp\n4,Dora,d@e.com,ba\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    from afluente.cli.scaffold import scaffold

    root = tmp_path_factory.mktemp("groups") / "shop"
    scaffold(root, name="shop")
    config = root / "afluente.yml"
    config.write_text(config.read_text().replace("landing/customers.csv",
                                                 "landing/customers*.csv"))
    for path in (root / "models").rglob("*.*"):
        path.unlink()
    for layer, models in (("silver", SILVER), ("gold", GOLD)):
        for name, model in models.items():
            header, query = model if isinstance(model, tuple) else ("kind: full", model)
            write(root / "models" / layer / f"{name}.sql", f"/* @config\n{header}\n*/\n{query}\n")
    assert run_project(load_project(root)).status == "success"
    write(root / "landing" / "orders_2.csv", MORE_ORDERS)
    write(root / "landing" / "customers_2.csv", MORE_CUSTOMERS)
    planned = {str(s.ref): s.reason for s in plan_project(load_project(root)).plan.steps}
    second = run_project(load_project(root))
    assert second.status == "success", second.error
    return root, {str(m.ref): m.reason for m in second.models}, planned["gold.customer_totals"]


def stored(root: Path, name: str) -> list[dict[str, Any]]:
    table = Warehouse(load_project(root).warehouse_uri).dataset(TableRef(*name.split(".")))
    return sorted(table.to_table().to_pylist(), key=lambda r: [str(v) for v in r.values()])


def rebuilt(root: Path, name: str) -> list[dict[str, Any]]:
    """The model's query over the silver tables as they are now: what a full rebuild holds."""
    warehouse = Warehouse(load_project(root).warehouse_uri)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA silver")
    for table in SILVER:
        data = warehouse.dataset(TableRef("silver", table)).to_table()
        con.register(f"_{table}", data)
        con.execute(f"CREATE VIEW silver.{table} AS SELECT * FROM _{table}")
    rows = con.sql(GOLD[name]).to_arrow_table().to_pylist()
    return sorted(rows, key=lambda r: [str(v) for v in r.values()])


@pytest.mark.parametrize("name", ["by_customer_month", "by_state_month", "customer_totals"])
def test_the_touched_groups_are_recomputed_and_the_table_equals_a_rebuild(
    built: tuple[Path, dict[str, str], str], name: str
) -> None:
    root, reasons, _ = built
    assert reasons[f"gold.{name}"].startswith("groups: recomputed "), reasons[f"gold.{name}"]
    assert stored(root, f"gold.{name}") == rebuilt(root, name)


def test_rows_move_between_groups_vanish_and_appear(
    built: tuple[Path, dict[str, str], str]
) -> None:
    root, reasons, _ = built
    by_month = {(r["customer_id"], str(r["month"])[:7]): (r["n"], r["total"], r["days"])
                for r in stored(root, "gold.by_customer_month")}
    assert (1, "2026-02") not in by_month  # order 12 deleted: its only row gone
    assert (1, "2026-01") not in by_month  # order 10 moved to customer 2
    assert by_month[(2, "2026-01")] == (2, Decimal("179.00"), 2)  # 11 and the moved 10
    assert by_month[(2, "2026-03")] == (1, Decimal("10.00"), 1)  # new group
    assert by_month[(3, "2026-02")] == (1, Decimal("55.00"), 1)  # changed amount
    by_state = {(r["uf"], str(r["month"])[:7]): r["total"]
                for r in stored(root, "gold.by_state_month")}
    assert by_state == {("SP", "2026-01"): Decimal("179.00"), ("MG", "2026-02"): Decimal("55.00"),
                        ("SP", "2026-03"): Decimal("10.00"), ("BA", "2026-04"): Decimal("70.00")}
    totals = {r["customer_id"]: (r["uf"], r["n"], r["total"])
              for r in stored(root, "gold.customer_totals")}
    assert totals == {1: ("SP", 0, 0), 2: ("SP", 2, Decimal("179.00")),
                      3: ("MG", 1, Decimal("55.00")), 4: ("BA", 1, Decimal("70.00"))}
    assert "touched group(s) of" in reasons["gold.customer_totals"]


def test_plan_and_run_say_why_a_model_is_rebuilt_whole(
    built: tuple[Path, dict[str, str], str]
) -> None:
    root, reasons, planned = built
    assert planned.endswith("recomputes only the groups its inputs' changed rows touch "
                            "(GROUP BY customer_id, uf; decided when read)")
    assert reasons["gold.ranked"].endswith(
        "kind `full` recomputes the whole table (it has a window function "
        "(`ROW_NUMBER() OVER (ORDER BY o.order_id)`))")
    assert [r["order_id"] for r in stored(root, "gold.ranked")] == [10, 11, 13, 14, 15]


def test_a_run_with_nothing_new_writes_nothing(built: tuple[Path, dict[str, str], str]) -> None:
    root, _, _ = built
    third = run_project(load_project(root))
    assert {m.status for m in third.models if str(m.ref).startswith("gold.")} == {"up_to_date"}


def test_one_value_of_keys_laid_out_in_order_lies_in_one_file() -> None:
    from afluente.runtime.group_refresh import _most_overlapping

    assert _most_overlapping([(1, 10), (11, 20), (21, 30)]) == 1  # ids in file order
    assert _most_overlapping([(1, 10), (10, 20), (21, 30)]) == 2  # a shared boundary value
    assert _most_overlapping([("A", "Z"), ("A", "Z"), ("B", "Y")]) == 3  # spread everywhere
