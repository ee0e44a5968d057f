"""Dimensional helpers, run on DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from afluente.transform import (
    UNKNOWN_KEY,
    KindSpecError,
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


# Versions of customer 1: [10, 20) and [20, 30), closed by a deletion at 30, then [40, open).
# (event, expected key): before the first version, exactly valid_from, exactly valid_to (the
# next version, or none in the gap after a deletion), the open end, a NULL event time.
VERSIONS = [(10, 10, 20), (11, 20, 30), (12, 40, None)]
EVENTS = [(9, -1), (10, 10), (19, 10), (20, 11), (29, 11), (30, -1), (35, -1), (39, -1)]
EVENTS += [(40, 12), (10**6, 12), (None, -1)]
SEQUENCE_TYPES = {
    # sequence type -> SQL turning the integer n into a value of that type
    "TIMESTAMP": "TIMESTAMP '2024-01-01 00:00:00' + to_minutes({n})",
    "TIMESTAMPTZ": "TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_minutes({n})",
    "DATE": "DATE '2024-01-01' + {n}",
    "BIGINT": "CAST({n} AS BIGINT)",
    "INTEGER": "CAST({n} AS INTEGER)",
}


def lookup_fixture(sequence_type: str) -> duckdb.DuckDBPyConnection:
    """A dimension and facts whose sequence column has the given SQL type."""
    as_type = SEQUENCE_TYPES[sequence_type]

    def value(n: int | None) -> str:
        return f"CAST(NULL AS {sequence_type})" if n is None else as_type.format(n=n)

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    dim_rows = [
        f"SELECT {sk} AS sk, 1 AS customer_id, {value(lo)} AS valid_from, {value(hi)} AS valid_to"
        for sk, lo, hi in VERSIONS
    ]
    con.execute("CREATE TABLE dim AS " + " UNION ALL ".join(dim_rows))
    fct_rows = [
        f"SELECT {i} AS sale, 1 AS customer_id, {value(at)} AS sold_at"
        for i, (at, _) in enumerate(EVENTS)
    ]
    fct_rows.append(f"SELECT {len(EVENTS)} AS sale, 2 AS customer_id, {value(10)} AS sold_at")
    con.execute("CREATE TABLE fct AS " + " UNION ALL ".join(fct_rows))
    return con


@pytest.mark.parametrize("typed", [False, True], ids=["any-type", "typed"])
@pytest.mark.parametrize("sequence_type", sorted(SEQUENCE_TYPES))
def test_scd2_lookup_picks_the_right_version_at_the_boundaries(
    sequence_type: str, typed: bool
) -> None:
    con = lookup_fixture(sequence_type)
    join = scd2_lookup_join(
        "dim",
        "f",
        "d",
        {"customer_id": "customer_id"},
        "sold_at",
        sequence_type=sequence_type if typed else None,
    )
    rows = con.sql(f"SELECT f.sale, {key_or_unknown('d', 'sk')} FROM fct f {join} ORDER BY 1")
    expected = [(i, key) for i, (_, key) in enumerate(EVENTS)] + [(len(EVENTS), UNKNOWN_KEY)]
    assert rows.fetchall() == expected


@pytest.mark.parametrize("sequence_type", [None, "BIGINT", "UBIGINT"])
def test_scd2_lookup_open_end_covers_the_largest_integer(sequence_type: str | None) -> None:
    top = 2**64 - 1 if sequence_type == "UBIGINT" else 2**63 - 1
    kind = sequence_type or "BIGINT"
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE dim AS SELECT 7 AS sk, 1 AS k, CAST(0 AS {kind}) AS valid_from, "
        f"CAST(NULL AS {kind}) AS valid_to"
    )
    con.execute(f"CREATE TABLE fct AS SELECT 1 AS k, CAST({top} AS {kind}) AS at")
    join = scd2_lookup_join("dim", "f", "d", {"k": "k"}, "at", sequence_type=sequence_type)
    assert con.sql(f"SELECT {key_or_unknown('d', 'sk')} FROM fct f {join}").fetchall() == [(7,)]


@pytest.mark.parametrize("typed", [False, True], ids=["any-type", "typed"])
@pytest.mark.parametrize("sequence_type", sorted(SEQUENCE_TYPES))
def test_scd2_lookup_is_planned_as_a_hash_join(sequence_type: str, typed: bool) -> None:
    con = lookup_fixture(sequence_type)
    join = scd2_lookup_join(
        "dim",
        "f",
        "d",
        {"customer_id": "customer_id"},
        "sold_at",
        sequence_type=sequence_type if typed else None,
    )
    plan = "\n".join(
        str(row[1]) for row in con.sql(f"EXPLAIN SELECT f.sale, d.sk FROM fct f {join}").fetchall()
    )
    assert "HASH_JOIN" in plan
    assert "NESTED_LOOP_JOIN" not in plan
    assert "BLOCKWISE_NL_JOIN" not in plan


def test_scd2_lookup_rejects_an_unsupported_sequence_type() -> None:
    with pytest.raises(KindSpecError, match=r"sequence_type 'VARCHAR' is not supported.*BIGINT"):
        scd2_lookup_join("dim", "f", "d", {"k": "k"}, "at", sequence_type="VARCHAR")
