"""The demo across batches: orders merged incrementally, the customer dimension as SCD2."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_demo_sql import attach_warehouse

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.model import TableRef, load_graph
from afluente.runtime import run_project
from afluente.storage import Warehouse


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo_batches")
    prepare_demo(root, orders=300, seed=5)
    assert run_project(load_project(root)).status == "success"
    return root


def test_a_customer_move_opens_a_version_and_new_orders_point_to_it(demo: Path) -> None:
    project = load_project(demo)
    warehouse = Warehouse(project.warehouse_uri)
    con = attach_warehouse(warehouse, load_graph(project, cache=False))
    customer_id, old_key, old_order, old_email = con.execute(
        "SELECT c.customer_id, c.customer_key, min(f.order_id), c.email FROM gold.dim_customer c "
        "JOIN gold.fct_orders f USING (customer_key) WHERE c.customer_id > 0 AND c.is_current "
        "AND c.cpf_valid AND c.city <> 'Manaus' AND c.customer_id NOT IN "
        "(SELECT customer_id FROM silver.customer_updates) GROUP BY ALL ORDER BY 1 LIMIT 1"
    ).fetchone()
    name, cpf, email, phone, city, uf = con.execute(
        "SELECT name, cpf, email, phone, city, uf FROM silver.customers WHERE customer_id = ?",
        [customer_id],
    ).fetchone()
    now = datetime.now(UTC)
    moved = (now - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    event = {"customer_id": str(customer_id), "name": name, "cpf": cpf, "email": email,
             "phone": "(92) 99999-0000", "city": "Manaus", "uf": "AM", "updated_at": moved,
             "op": "U"}
    write_csv(demo / "landing/customer_updates/customer_updates_9999_1.csv", [event])
    bought = (now + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    write_csv(demo / "landing/orders/orders_9999.csv", [{
        "order_id": "999999", "customer_id": str(customer_id), "status": "created",
        "channel": "app", "purchased_at": bought, "updated_at": bought,
    }])
    versions = {t: warehouse.version(TableRef("silver", t)) for t in ("orders", "payments")}

    result = run_project(project)

    assert result.status == "success", [m.reason for m in result.failed]
    reasons = {str(m.ref): m.reason for m in result.models}
    assert reasons["silver.orders"].startswith("incremental: ")
    assert warehouse.version(TableRef("silver", "payments")) == versions["payments"]
    con = attach_warehouse(warehouse, load_graph(project, cache=False))
    history = con.execute(
        "SELECT customer_key, city, uf, valid_to IS NULL, is_current FROM gold.dim_customer "
        "WHERE customer_id = ? ORDER BY valid_from", [customer_id]
    ).fetchall()
    assert len(history) == 2
    assert history[0][0] == old_key and history[0][3:] == (False, False)
    assert history[1][1:] == ("Manaus", "AM", True, True)
    facts = dict(con.execute(
        "SELECT order_id, customer_key FROM gold.fct_orders WHERE order_id IN (?, 999999)",
        [old_order],
    ).fetchall())
    assert facts == {old_order: old_key, 999999: history[1][0]}

    # an e-mail change from before the move lands only now: it takes its place in the
    # history, and the newer state (the move) stays current
    earlier = (now - timedelta(days=5)).strftime("%Y-%m-%d %H:%M:%S")
    late = {**event, "email": "novo." + old_email, "phone": phone, "city": city, "uf": uf,
            "updated_at": earlier}
    write_csv(demo / "landing/customer_updates/customer_updates_9999_2.csv", [late])
    assert run_project(project).status == "success"
    con = attach_warehouse(warehouse, load_graph(project, cache=False))
    history = con.execute(
        "SELECT email, city, is_current FROM gold.dim_customer "
        "WHERE customer_id = ? ORDER BY valid_from", [customer_id]
    ).fetchall()
    assert history == [
        (old_email, city, False), ("novo." + old_email, city, False), (email, "Manaus", True)
    ]

    again = run_project(project)
    assert {m.status for m in again.models} == {"up_to_date"}
