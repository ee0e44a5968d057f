"""The examples/postgres_shop project end to end against the real PostgreSQL."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse

from .helpers import plain_url

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "postgres_shop"


def gold(root: Path) -> dict[int, tuple[int, Decimal]]:
    warehouse = Warehouse(load_project(root).warehouse_uri)
    rows = warehouse.dataset(TableRef("gold", "revenue_by_customer")).to_table().to_pylist()
    return {r["customer_id"]: (r["paid_orders"], r["revenue"]) for r in rows}


def test_example_runs_then_picks_up_new_and_updated_orders(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = plain_url(postgres_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (customer_id int PRIMARY KEY, name text, city text)")
        conn.execute(
            "CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int, status text, "
            "amount numeric(10, 2), updated_at timestamptz NOT NULL)"
        )
        conn.execute("INSERT INTO customers VALUES (1, 'Ana', 'Recife'), (2, 'Bruno', 'Natal')")
        conn.execute(
            "INSERT INTO orders VALUES (1, 1, 'paid', 10.50, '2024-05-01 10:00Z'), "
            "(2, 1, 'open', 99.00, '2024-05-01 11:00Z'), (3, 2, 'paid', 5.25, '2024-05-01 12:00Z')"
        )
    monkeypatch.setenv("SHOP_PG_URL", url)
    root = tmp_path / "shop"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("warehouse", ".afluente"))
    assert run_project(load_project(root)).status == "success"
    assert gold(root) == {1: (1, Decimal("10.50")), 2: (1, Decimal("5.25"))}

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE orders SET status = 'paid', updated_at = '2024-05-02 09:00Z' WHERE order_id = 2"
        )
        conn.execute("INSERT INTO orders VALUES (4, 2, 'paid', 1.00, '2024-05-02 10:00Z')")
    second = run_project(load_project(root))
    assert second.status == "success"
    bronze = next(m for m in second.models if m.ref == TableRef("bronze", "orders"))
    # orders 2 and 4, plus order 3 read again inside the 10-minute lookback window
    assert bronze.rows == 3
    assert gold(root) == {1: (2, Decimal("109.50")), 2: (2, Decimal("6.25"))}
