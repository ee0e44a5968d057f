"""PostgreSQL sources against a real server: types, incremental cursor, full reloads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from afluente.config import load_project
from afluente.runtime import plan_project

from .helpers import bronze, make_project, plain_url, progress, rows, run, version

UTC = dt.UTC


def sql(url: str, *statements: str) -> None:
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def pg(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TEST_PG_URL", plain_url(postgres_url))
    return postgres_url


def test_column_types_round_trip_into_bronze(tmp_path: Path, pg: str) -> None:
    sql(
        pg,
        """CREATE TABLE kinds (
            i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
            money numeric(12, 3), wide numeric(40, 2), free numeric, txt text, vc varchar(5),
            flag boolean, day date, at timestamp, at_tz timestamptz, doc json, docb jsonb,
            id uuid, raw bytea, ints integer[], tags text[], span interval)""",
        """INSERT INTO kinds VALUES (1, 2, 3, 1.5, 2.25, 123456789.123,
            12345678901234567890123456789012345678.12, 1.23456789012345678901, 'x', 'y',
            true, '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02',
            '{"a": 1}', '{"b": 2}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\xdeadbeef',
            '{1,2}', '{a,b}', '1 day')""",
        "INSERT INTO kinds (i4) VALUES (NULL)",
    )
    root = make_project(
        tmp_path / "p", "type: postgres\nurl: ${TEST_PG_URL}\nsource_table: public.kinds\n"
    )
    assert run(root).status == "success"
    table = bronze(root)
    expected = {
        "i2": pa.int16(),
        "i4": pa.int32(),
        "i8": pa.int64(),
        "f4": pa.float32(),
        "f8": pa.float64(),
        "money": pa.decimal128(12, 3),
        "wide": pa.string(),
        "free": pa.string(),
        "txt": pa.string(),
        "vc": pa.string(),
        "flag": pa.bool_(),
        "day": pa.date32(),
        "at": pa.timestamp("us"),
        "at_tz": pa.timestamp("us", tz="UTC"),
        "doc": pa.string(),
        "docb": pa.string(),
        "id": pa.string(),
        "raw": pa.binary(),
        "ints": pa.list_(pa.int32()),
        "tags": pa.list_(pa.string()),
        "span": pa.string(),
    }
    found = {name: table.schema.field(name).type for name in expected}
    for name, kind in expected.items():  # Delta may name list items differently
        assert found[name] == kind or str(found[name]).replace("element", "item") == str(kind), name
    row = next(r for r in table.to_pylist() if r["i2"] == 1)
    assert row["money"] == Decimal("123456789.123")
    assert row["wide"] == "12345678901234567890123456789012345678.12"
    assert row["free"] == "1.23456789012345678901"
    assert row["at"] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456)
    assert row["at_tz"] == dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert (row["doc"], row["docb"]) == ('{"a": 1}', '{"b": 2}')
    assert row["id"] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    assert row["raw"] == b"\xde\xad\xbe\xef"
    assert (row["ints"], row["tags"], row["span"]) == ([1, 2], ["a", "b"], "1 day")
    assert row["_source"] == "public.kinds"
    assert table.num_rows == 2


INCREMENTAL = """\
type: postgres
url: ${TEST_PG_URL}
source_table: orders
chunk_rows: 1000
incremental:
  cursor: updated_at
  lookback: 10 minutes
"""


def test_incremental_reads_past_the_watermark_minus_lookback(tmp_path: Path, pg: str) -> None:
    sql(
        pg,
        "CREATE TABLE orders (id int, amount numeric(10, 2), updated_at timestamptz)",
        "INSERT INTO orders SELECT g, g, timestamptz '2024-01-01 00:00Z' + g * interval '1 hour'"
        " FROM generate_series(1, 2500) g",
    )
    root = make_project(tmp_path / "p", INCREMENTAL)
    first = run(root)
    assert (first.status, first.models[0].rows) == ("success", 2500)
    last = dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(hours=2500)
    assert progress(root)[0]["watermark"] == last.isoformat()

    # nothing new: plan skips and a run writes nothing
    (step,) = plan_project(load_project(root)).plan.steps
    assert step.action == "skip"
    assert run(root).models[0].status == "up_to_date"
    assert version(root) == 0

    # a late row (5 minutes before the watermark) and a new one: both read, plus the
    # row at the watermark itself, re-read inside the lookback window
    late, new = last - dt.timedelta(minutes=5), last + dt.timedelta(minutes=1)
    sql(
        pg,
        f"INSERT INTO orders VALUES (9001, 1, '{late.isoformat()}'), "
        f"(9002, 2, '{new.isoformat()}')",
    )
    second = run(root)
    assert second.models[0].rows == 3
    assert sorted(r[0] for r in rows(root, "id") if r[0] > 2499) == [2500, 2500, 9001, 9002]
    assert progress(root)[0]["watermark"] == new.isoformat()


def test_incremental_initial_and_numeric_cursor(tmp_path: Path, pg: str) -> None:
    sql(
        pg,
        "CREATE TABLE orders (id bigint, v text)",
        "INSERT INTO orders SELECT g, 'v' || g FROM generate_series(1, 10) g",
    )
    source = INCREMENTAL.replace("updated_at", "id").replace("10 minutes", "2")
    root = make_project(tmp_path / "p", source + "  initial: 5\n")
    run(root)
    assert sorted(r[0] for r in rows(root, "id")) == list(range(5, 11))
    sql(pg, "INSERT INTO orders VALUES (11, 'v11')")
    run(root)
    assert sorted(r[0] for r in rows(root, "id")) == [5, 6, 7, 8, 9, 9, 10, 10, 11]


def test_full_table_reload_is_skipped_when_the_signature_is_unchanged(
    tmp_path: Path, pg: str
) -> None:
    sql(pg, "CREATE TABLE orders (id int, v text)", "INSERT INTO orders VALUES (1, 'a'), (2, 'b')")
    root = make_project(
        tmp_path / "p", "type: postgres\nurl: ${TEST_PG_URL}\nsource_table: orders\n"
    )
    run(root)
    assert run(root).models[0].status == "up_to_date"
    sql(pg, "UPDATE orders SET v = 'B' WHERE id = 2")
    (step,) = plan_project(load_project(root)).plan.steps
    assert step.action == "run"
    run(root)
    assert rows(root, "id", "v") == [(1, "a"), (2, "B")]
    assert version(root) == 1


def test_query_source(tmp_path: Path, pg: str) -> None:
    sql(pg, "CREATE TABLE orders (id int, v text)", "INSERT INTO orders VALUES (1, 'a'), (2, 'b')")
    source = (
        "type: postgres\nurl: ${TEST_PG_URL}\n"
        "query: SELECT id, upper(v) AS v FROM orders WHERE id > 1\n"
    )
    root = make_project(tmp_path / "p", source)
    run(root)
    assert rows(root, "id", "v", "_source") == [(2, "B", "query")]
