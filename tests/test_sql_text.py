"""The SQL text builders give what DuckDB (really run) and Spark SQL (parsed by sqlglot) read
back as the same names and values."""

from __future__ import annotations

import math
from decimal import Decimal

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from afluente.sql_text import DIALECTS, DUCKDB, SPARK, col_list, ident, literal, qualified

AWKWARD_NAMES = ["plain", 'with "double" quotes', "with `backticks`", "it's", "çedilha ü", "a.b"]


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_a_quoted_identifier_names_the_same_column_in_duckdb(name: str) -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {ident('t')} ({ident(name)} INTEGER)")
    con.execute(f"INSERT INTO t ({ident(name)}) VALUES (7)")
    columns = con.execute("SELECT column_name FROM duckdb_columns() WHERE NOT internal")
    assert columns.fetchall() == [(name,)]
    assert con.execute(f"SELECT {col_list([name], 'x')} FROM t AS x").fetchall() == [(7,)]


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_a_quoted_identifier_parses_back_to_the_same_name_in_spark_sql(name: str) -> None:
    tree = sqlglot.parse_one(f"SELECT {SPARK.ident(name)} FROM {SPARK.qualified('s', 't')}",
                             read="spark")
    assert [c.name for c in tree.find_all(exp.Column)] == [name]
    table = tree.find(exp.Table)
    assert table is not None and (table.db, table.name) == ("s", "t")


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -12, 3.25, Decimal("12.50"), "it's", "", "naïve 'quoted' \\ text",
     math.inf, -math.inf],
)
def test_a_literal_reads_back_as_its_value_in_duckdb(value: object) -> None:
    got = duckdb.execute(f"SELECT {literal(value)}").fetchone()
    assert got is not None
    assert got[0] == value


def test_nan_is_a_double_nan_not_a_name() -> None:
    got = duckdb.execute(f"SELECT {literal(math.nan)}").fetchone()
    assert got is not None and math.isnan(got[0])


def test_spark_spells_non_finite_numbers_its_own_way() -> None:
    assert SPARK.literal(math.inf) == "CAST('Infinity' AS DOUBLE)"
    assert SPARK.literal(-math.inf) == "CAST('-Infinity' AS DOUBLE)"
    assert SPARK.literal("it's") == "'it''s'"


def test_the_default_spellings_are_duckdb_and_every_dialect_is_a_sqlglot_dialect() -> None:
    assert qualified("silver", 'we"ird') == '"silver"."we""ird"'
    assert DIALECTS["duckdb"] is DUCKDB
    for name in DIALECTS:
        assert sqlglot.Dialect.get_or_raise(name) is not None
