"""Bad input for `type: postgres_cdc` (unreachable server, missing table, a slot moved past
bronze, a slot that lost its WAL, a dropped slot, `wal_level` not logical, a table without
a primary key): each case stops with an error that names what is wrong and what to do, and
leaves bronze at its previous Delta version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import PostgresServer, _free_port, running_postgres

from .helpers import failure, ok, run, table, version
from .postgres_cdc import BRONZE, SLOT, Shop, make_project


def _set_source(root: Path, old: str, new: str) -> None:
    path = root / "afluente.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def _lose_the_slots_wal(shop: Shop) -> None:
    """Make the server invalidate the slot: keep at most 1 MB of WAL for slots, move to
    new WAL segments, checkpoint; the setting is reset after."""
    try:
        shop.rows("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
        shop.rows("SELECT pg_reload_conf()")
        for key in (7, 8, 9):
            shop.sql(f"INSERT INTO customers VALUES ({key}, 'x', 'y')")
            shop.rows("SELECT pg_switch_wal()")
        shop.rows("CHECKPOINT")
    finally:
        shop.rows("ALTER SYSTEM RESET max_slot_wal_keep_size")
        shop.rows("SELECT pg_reload_conf()")
    assert shop.rows("SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s",
                     SLOT) == [("lost",)]


def test_bad_server_tables_and_slots_stop_with_bronze_unchanged(
    tmp_path: Path, shop: Shop
) -> None:
    root = make_project(tmp_path / "p", shop.url, models=False)
    ok(run(root))
    before = version(root, BRONZE)

    port = _free_port()  # nothing listens there
    current_port = shop.url.split(":")[2].split("/")[0]
    _set_source(root, f":{current_port}/", f":{port}/")
    message = failure(run(root))
    assert f"cannot reach PostgreSQL at 127.0.0.1:{port}" in message
    assert version(root, BRONZE) == before
    _set_source(root, f":{port}/", f":{current_port}/")

    _set_source(root, "[customers, public.orders]", "[customers, public.ordrs]")
    message = failure(run(root))
    assert "table `public.ordrs` does not exist" in message
    assert "(existing tables: public.customers, public.orders)" in message
    assert version(root, BRONZE) == before
    shop.sql("CREATE TABLE nokey (id int)")
    _set_source(root, "[customers, public.ordrs]", "[customers, nokey]")
    message = failure(run(root))
    assert "table `public.nokey` has no primary key and no REPLICA IDENTITY" in message
    assert 'ALTER TABLE "public"."nokey" REPLICA IDENTITY FULL' in message
    assert version(root, BRONZE) == before
    _set_source(root, "[customers, nokey]", "[customers, public.orders]")

    # another reader confirmed the slot past what bronze holds
    shop.sql("INSERT INTO customers VALUES (5, 'Eva', 'Natal')")
    shop.rows("SELECT pg_replication_slot_advance(%s, pg_current_wal_lsn())", SLOT)
    message = failure(run(root))
    assert f"replication slot `{SLOT}`" in message and "past the" in message
    assert "may be missing" in message and "--full-refresh" in message
    assert version(root, BRONZE) == before

    # the server dropped WAL the slot still needed (`max_slot_wal_keep_size`)
    _lose_the_slots_wal(shop)
    message = failure(run(root))
    assert f"replication slot `{SLOT}`" in message and "lost the write-ahead log" in message
    assert "the changes since then may be missing" in message
    assert "afluente run --full-refresh --select bronze.shop`" in message
    assert version(root, BRONZE) == before

    shop.rows("SELECT pg_drop_replication_slot(%s)", SLOT)
    message = failure(run(root))
    assert f"replication slot `{SLOT}` no longer exists" in message
    assert "changes committed since then may be missing" in message
    assert "afluente run --full-refresh" in message
    assert version(root, BRONZE) == before

    # the way out the errors give: a new snapshot replaces bronze (and recreates the slot)
    ok(run(root, full_refresh=True))
    ids = sorted(r["id"] for r in table(root, BRONZE).to_pylist() if r["_table"] ==
                 "public.customers")
    assert ids == [1, 2, 5, 7, 8, 9] and shop.confirmed_lsn() is not None
    # a slot bronze's progress does not cover (a snapshot killed before its commit, or a
    # full refresh) is dropped and made again
    first = shop.confirmed_lsn()
    ok(run(root, full_refresh=True))
    assert shop.confirmed_lsn() != first and version(root, BRONZE) == (before or 0) + 2


@pytest.fixture(scope="module")
def replica_wal_server() -> Iterator[PostgresServer]:
    """A second PostgreSQL left at the default `wal_level = replica`."""
    with running_postgres() as server:
        yield server


def test_wal_level_not_logical_names_the_setting(
    tmp_path: Path, replica_wal_server: PostgresServer
) -> None:
    import psycopg

    url = replica_wal_server.url("postgres").replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS customers (id int PRIMARY KEY)")
        conn.execute("CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY)")
    root = make_project(tmp_path / "p", url, models=False)
    message = failure(run(root))
    assert "has `wal_level = replica`" in message
    assert "ALTER SYSTEM SET wal_level = logical" in message and "restart" in message
    assert version(root, BRONZE) is None  # bronze was never created

