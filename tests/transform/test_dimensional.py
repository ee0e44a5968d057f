"""Dimensional helpers, run on DuckDB."""

from __future__ import annotations

import duckdb

from afluente.transform import (
    UNKNOWN_KEY,
    key_or_unknown,
    scd2_lookup_join,
    surrogate_key,
    surrogate_key_sql,
    unknown_member_sql,
    with_unknown_member,
)


def test_surrogate_key_is_stable_and_matches_python() -> None:
    sql = f"SELECT {surrogate_key_sql(['id', 'uf'])} FROM (SELECT 42 AS id, 'SP' AS uf)"
    value = duckdb.sql(sql).fetchone()[0]
    assert value == surrogate_key([42, "SP"]) == 309219393115663001
    assert 0 < value < 2**63


def test_surrogate_key_text_is_unambiguous_and_handles_null() -> None:
    rows = duckdb.sql(
        f"SELECT {surrogate_key_sql(['a', 'b'])} FROM "
        "(VALUES ('x,y', 'z'), ('x', 'y,z'), (NULL, 'z'), ('', 'z')) v(a, b)"
    ).fetchall()
    assert len({r[0] for r in rows}) == 4
    assert rows[2][0] == surrogate_key([None, "z"])


def test_unknown_member_row() -> None:
    sql = unknown_member_sql("customer_sk", {"name": "VARCHAR", "since": "DATE"})
    assert duckdb.sql(sql).fetchall() == [(UNKNOWN_KEY, "Unknown", None)]
    dim = "SELECT 7 AS customer_sk, 'Ana' AS name, DATE '2024-01-01' AS since"
    merged = with_unknown_member(dim, "customer_sk", {"name": "VARCHAR", "since": "DATE"})
    assert sorted(duckdb.sql(merged).fetchall(), key=lambda r: r[0])[0][:2] == (-1, "Unknown")
    twice = with_unknown_member(merged, "customer_sk", {"name": "VARCHAR", "since": "DATE"})
    assert len(duckdb.sql(twice).fetchall()) == 2


def test_scd2_lookup_picks_the_version_valid_at_event_time() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE dim AS FROM (VALUES (10, 1, 'a', 1, 5), (11, 1, 'b', 5, NULL)) "
        "v(sk, customer_id, city, valid_from, valid_to)"
    )
    con.execute(
        "CREATE TABLE fct AS FROM (VALUES (1, 1, 2), (2, 1, 5), (3, 1, 9), (4, 2, 3)) "
        "v(sale, customer_id, sold_at)"
    )
    join = scd2_lookup_join("dim", "f", "d", {"customer_id": "customer_id"}, "sold_at")
    rows = con.sql(f"SELECT f.sale, {key_or_unknown('d', 'sk')} FROM fct f {join} ORDER BY 1")
    assert rows.fetchall() == [(1, 10), (2, 11), (3, 11), (4, -1)]
