"""A shop database on the session's PostgreSQL (`wal_level=logical`) and a project that
captures it with a `type: postgres_cdc` source into `bronze.shop`, plus an SCD2 silver
table built by apply_changes from the change rows."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from afluente.model import TableRef

BRONZE, SILVER = TableRef("bronze", "shop"), TableRef("silver", "customers")
SLOT = "afluente_shop"
SCD2_SQL = """
    /* @config
    kind: apply_changes
    keys: id
    sequence_by: _sequence
    apply_as_deletes: "_op = 'delete'"
    except_columns: [_op]
    scd_type: 2
    */
    SELECT id, name, city, _op, _sequence
    FROM bronze.shop
    WHERE _table = 'public.customers' AND _op <> 'truncate'
"""


@dataclass(frozen=True)
class Shop:
    """A database with `customers` (id, name, city) and `orders` (id, amount, note)."""

    url: str  # postgresql://... (no driver suffix)

    def sql(self, *statements: str) -> None:
        """Run `statements` in one transaction."""
        import psycopg

        with psycopg.connect(self.url) as conn:
            for statement in statements:
                conn.execute(statement)

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """`query`'s rows, outside a transaction (ALTER SYSTEM, CHECKPOINT too)."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return list(cursor.fetchall()) if cursor.description else []

    def confirmed_lsn(self) -> str | None:
        found = self.rows("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                          "WHERE slot_name = %s", SLOT)
        return found[0][0] if found else None


@pytest.fixture
def shop(postgres_url: str) -> Iterator[Shop]:
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    found = Shop(url)
    found.sql(
        "CREATE TABLE customers (id int PRIMARY KEY, name text, city text)",
        "CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10, 2), note text)",
        "INSERT INTO customers VALUES (1, 'Ana', 'Recife'), (2, 'Bia', 'Natal')",
        "INSERT INTO orders VALUES (10, 12.50, 'first')",
    )
    yield found
    # a slot keeps WAL and blocks DROP DATABASE: remove this test's
    found.rows("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
               "WHERE database = current_database() AND active_pid IS NULL")


def make_project(root: Path, url: str, extra: str = "", models: bool = True) -> Path:
    """A project capturing `customers` and `orders` as `bronze.shop` (source `shop`)."""
    root.mkdir(parents=True, exist_ok=True)
    source = (f"name: cdc\nsources:\n  shop:\n    type: postgres_cdc\n    url: {url}\n"
              "    source_tables: [customers, public.orders]\n    connect_timeout: 2\n")
    (root / "afluente.yml").write_text(source + textwrap.indent(extra, "    "),
                                       encoding="utf-8")
    if models:
        path = root / "models" / "silver" / "customers.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(SCD2_SQL).strip() + "\n", encoding="utf-8")
    return root
