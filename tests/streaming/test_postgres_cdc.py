"""`type: postgres_cdc` end to end on a real PostgreSQL (`wal_level=logical`): the initial
snapshot, then inserts, updates, deletes and truncates as change rows in bronze, folded by
apply_changes into an SCD2 table whose exact history is asserted, micro-batch after
micro-batch (a key change closes the old key's version); the LSN committed with the rows and
the slot confirmed after."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from afluente.connectors.postgres_cdc.connector import position_app_id
from afluente.connectors.postgres_cdc.pgoutput import lsn_number
from afluente.transform.cdc import visible_scan
from cli_inprocess import run_afluente

from .helpers import table, version, warehouse
from .postgres_cdc import BRONZE, SILVER, Shop, make_project


def stream(root: Path, *options: str) -> str:
    done = run_afluente(["-p", str(root), "stream", "--trigger", "available-now", *options])
    assert done.returncode == 0, done.stderr
    return done.stdout


def bronze_rows(root: Path) -> list[dict[str, Any]]:
    rows = table(root, BRONZE).to_pylist()
    return sorted(rows, key=lambda r: (r["_sequence"], r["_table"], r["id"] or 0))


def history(root: Path) -> list[tuple[Any, ...]]:
    """silver.customers as its readers see it: (id, name, city, from, to, current)."""
    dataset = warehouse(root).dataset(SILVER)
    columns, visible = visible_scan(dataset.schema)
    rows = dataset.to_table(columns=columns, filter=visible).to_pylist()
    return sorted((r["id"], r["name"], r["city"], r["valid_from"], r["valid_to"],
                   r["is_current"]) for r in rows)


def sequence_of(rows: list[dict[str, Any]], op: str, key: int) -> str:
    (found,) = [r["_sequence"] for r in rows
                if r["_op"] == op and r["id"] == key and r["_table"] == "public.customers"]
    return str(found)


def test_snapshot_then_changes_give_the_exact_scd2_history(tmp_path: Path, shop: Shop) -> None:
    root = make_project(tmp_path / "p", shop.url)
    assert "3 source rows" in stream(root)
    snap = bronze_rows(root)
    assert [(r["_op"], r["_table"], r["id"], r["_seq"]) for r in snap] == [
        ("snapshot", "public.customers", 1, 0), ("snapshot", "public.customers", 2, 0),
        ("snapshot", "public.orders", 10, 0)]
    assert snap[2]["amount"] == Decimal("12.50")
    assert table(root, BRONZE).schema.field("amount").type == pa.decimal128(10, 2)
    lsn = snap[0]["_lsn"]
    assert warehouse(root).transaction_version(BRONZE, position_app_id("shop")) == \
        lsn_number(lsn)
    start = sequence_of(snap, "snapshot", 1)
    assert history(root) == [(1, "Ana", "Recife", start, None, True),
                             (2, "Bia", "Natal", start, None, True)]

    # micro-batch 2: an update, a delete, an insert then its update in one transaction,
    # an order, then a truncate of orders
    shop.sql("UPDATE customers SET city = 'Olinda' WHERE id = 1")
    shop.sql("DELETE FROM customers WHERE id = 2")
    shop.sql("INSERT INTO customers VALUES (3, 'Caio', 'Belém')",
             "UPDATE customers SET name = 'Caio B' WHERE id = 3",
             "INSERT INTO orders VALUES (11, 3.25, NULL)")
    shop.sql("TRUNCATE orders")
    # at most one change per micro-batch: one transaction each, never split
    assert "after 5 micro-batches, 6 source rows" in stream(root, "--max-records", "1")
    rows = bronze_rows(root)
    runs = [r["_run_id"] for r in rows[3:]]
    assert len(set(runs)) == 4 and runs[2] == runs[3] == runs[4]
    changes = [(r["_op"], r["_table"], r["id"], r["name"], r["city"], r["_seq"])
               for r in rows[3:]]
    assert changes == [
        ("update", "public.customers", 1, "Ana", "Olinda", 1),
        ("delete", "public.customers", 2, None, None, 1),  # the key only (REPLICA IDENTITY)
        ("insert", "public.customers", 3, "Caio", "Belém", 1),
        ("update", "public.customers", 3, "Caio B", "Belém", 2),
        ("insert", "public.orders", 11, None, None, 3),
        ("truncate", "public.orders", None, None, None, 1),
    ]
    last = rows[-1]["_lsn"]
    moved, closed = sequence_of(rows, "update", 1), sequence_of(rows, "delete", 2)
    born = sequence_of(rows, "insert", 3)
    renamed = next(r["_sequence"] for r in rows if r["_op"] == "update" and r["id"] == 3)
    assert history(root) == [
        (1, "Ana", "Olinda", moved, None, True),
        (1, "Ana", "Recife", start, moved, False),
        (2, "Bia", "Natal", start, closed, False),
        (3, "Caio", "Belém", born, renamed, False),
        (3, "Caio B", "Belém", renamed, None, True),
    ]
    # the position is the LSN past the last transaction: in Delta, and confirmed after
    position = warehouse(root).transaction_version(BRONZE, position_app_id("shop"))
    assert position is not None and position > lsn_number(last)
    assert lsn_number(str(shop.confirmed_lsn())) == position

    # micro-batch 3: the deleted key comes back; a key changes (a delete, then an insert)
    shop.sql("INSERT INTO customers VALUES (2, 'Bia', 'Natal')")
    shop.sql("UPDATE customers SET id = 4 WHERE id = 3")
    stream(root)
    rows = bronze_rows(root)
    back, gone = sequence_of(rows, "insert", 2), sequence_of(rows, "delete", 3)
    arrived = sequence_of(rows, "insert", 4)
    (moved_key,) = [(r["_seq"], r["name"], r["_before"]) for r in rows if r["id"] == 4]
    assert moved_key == (2, "Caio B", '{"id": "3"}') and gone < arrived
    assert [h for h in history(root) if h[0] in (2, 3, 4)] == [
        (2, "Bia", "Natal", start, closed, False), (2, "Bia", "Natal", back, None, True),
        (3, "Caio", "Belém", born, renamed, False), (3, "Caio B", "Belém", renamed, gone, False),
        (4, "Caio B", "Belém", arrived, None, True)]
    assert len(history(root)) == 7


def test_an_idle_capture_still_lets_the_server_recycle_its_wal(tmp_path: Path, shop: Shop) -> None:
    root = make_project(tmp_path / "p", shop.url, models=False)
    stream(root)
    held, before = shop.confirmed_lsn(), version(root, BRONZE)
    assert "0 source rows" in stream(root)  # nothing changed, nothing written
    assert version(root, BRONZE) == before
    # other tables fill more than a WAL segment while the captured ones do not change
    shop.sql("CREATE TABLE notes (t text)")
    for _ in range(3):
        shop.sql("INSERT INTO notes VALUES ('x')")
        shop.rows("SELECT pg_switch_wal()")
    stream(root)
    # an empty commit records a heartbeat's LSN, and the slot is confirmed past that WAL
    assert version(root, BRONZE) == (before or 0) + 1 and table(root, BRONZE).num_rows == 3
    position = warehouse(root).transaction_version(BRONZE, position_app_id("shop"))
    assert position is not None and position > lsn_number(str(held))
    assert lsn_number(str(shop.confirmed_lsn())) == position
    # and the changes after it still arrive, once
    shop.sql("UPDATE customers SET city = 'Caruaru' WHERE id = 2")
    assert "1 source rows" in stream(root)
    assert [r["city"] for r in table(root, BRONZE).to_pylist() if r["_op"] == "update"] == [
        "Caruaru"]
