"""MySQL/MariaDB sources against a real MariaDB: types and the incremental cursor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from .conftest import MariaDbServer
from .helpers import bronze, make_project, progress, rows, run, version


@pytest.fixture
def db(mariadb_server: MariaDbServer, mariadb_database: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_MY_URL", mariadb_server.url(mariadb_database))
    return mariadb_server.admin(mariadb_database)


def test_column_types_round_trip_into_bronze(tmp_path: Path, db) -> None:  # type: ignore[no-untyped-def]
    with db, db.cursor() as cur:
        cur.execute(
            "CREATE TABLE orders (i int, big bigint unsigned, price decimal(12, 3), "
            "huge decimal(40, 2), name varchar(20), doc json, raw varbinary(8), "
            "day date, at datetime(6), stamped timestamp(6) NULL, span time, flag boolean)"
        )
        cur.execute(
            "INSERT INTO orders VALUES (1, 18446744073709551615, 123456789.123, "
            "12345678901234567890123456789012345678.12, 'ação', '{\"a\": 1}', x'dead', "
            "'2024-02-29', '2024-01-02 03:04:05.5', '2024-01-02 03:04:05', '01:02:03', true)"
        )
    root = make_project(
        tmp_path / "p", "type: mariadb\nurl: ${TEST_MY_URL}\nsource_table: orders\n"
    )
    assert run(root).status == "success"
    table = bronze(root)
    types = {f.name: f.type for f in table.schema}
    assert types["i"] == pa.int32() and types["big"] == pa.decimal128(20, 0)
    assert types["price"] == pa.decimal128(12, 3) and types["huge"] == pa.string()
    assert types["stamped"] == pa.timestamp("us", tz="UTC") and types["raw"] == pa.binary()
    (row,) = table.to_pylist()
    assert row["big"] == Decimal(18446744073709551615)
    assert row["price"] == Decimal("123456789.123")
    assert row["huge"] == "12345678901234567890123456789012345678.12"
    assert (row["name"], row["doc"], row["raw"]) == ("ação", '{"a": 1}', b"\xde\xad")
    assert row["at"] == dt.datetime(2024, 1, 2, 3, 4, 5, 500000)
    assert row["stamped"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert (row["span"], row["flag"]) == ("01:02:03", 1)


def test_incremental_by_datetime_cursor(tmp_path: Path, db) -> None:  # type: ignore[no-untyped-def]
    with db.cursor() as cur:
        cur.execute("CREATE TABLE orders (id int, updated_at datetime)")
        cur.execute("INSERT INTO orders VALUES (1, '2024-01-01 10:00'), (2, '2024-01-01 11:00')")
    source = (
        "type: mysql\nurl: ${TEST_MY_URL}\nsource_table: orders\n"
        "incremental: {cursor: updated_at, lookback: 30 minutes}\n"
    )
    root = make_project(tmp_path / "p", source)
    run(root)
    assert progress(root)[0]["watermark"] == "2024-01-01T11:00:00"
    assert run(root).models[0].status == "up_to_date"
    with db.cursor() as cur:
        cur.execute("INSERT INTO orders VALUES (3, '2024-01-01 10:50'), (4, '2024-01-01 12:00')")
    run(root)
    assert sorted(r[0] for r in rows(root, "id")) == [1, 2, 2, 3, 4]
    assert version(root) == 1
    db.close()
