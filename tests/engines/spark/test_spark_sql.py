"""Models' SQL (DuckDB's dialect) rewritten for Spark, and ad-hoc queries checked before
Spark sees them: pure functions over sqlglot trees, no Spark needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.engines.spark_readonly import read_only_spark_sql
from afluente.engines.spark_sql import Names, to_spark
from afluente.errors import EngineError, Location

NAMES = Names({("silver", "orders"): "__afluente_silver__orders"}, {"min_amount": 50})
HEADER = "/* @config\ndescription: a model\n*/\n"


def model(tmp_path: Path, sql: str) -> tuple[str, Location]:
    path = tmp_path / "models" / "gold" / "m.sql"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + sql)
    return sql, Location(path)


def test_tables_become_views_keeping_their_name_as_alias() -> None:
    sql = ("SELECT silver.orders.order_id, orders.amount, o.amount AS again "
           "FROM silver.orders JOIN silver.orders AS o USING (order_id)")

    text = to_spark(sql, NAMES, Location("m.sql"), "gold.m")

    assert text == (
        "SELECT orders.order_id, orders.amount, o.amount AS again "
        "FROM `__afluente_silver__orders` AS orders "
        "JOIN `__afluente_silver__orders` AS o USING (order_id)"
    )


def test_vars_become_literals_and_an_unset_var_is_null() -> None:
    sql = "SELECT * FROM silver.orders WHERE amount >= getvariable('min_amount') " \
          "AND getvariable('unset') IS NULL"

    text = to_spark(sql, NAMES, Location("m.sql"), "gold.m")

    assert text.endswith("WHERE amount >= 50 AND NULL IS NULL")


def test_duckdb_functions_are_transpiled() -> None:
    sql = "SELECT list_transform([1, 2], x -> x + 1) AS l, 7 // 2 AS q, a::TIMESTAMP AS t " \
          "FROM silver.orders QUALIFY row_number() OVER (ORDER BY a) = 1"

    text = to_spark(sql, NAMES, Location("m.sql"), "gold.m")

    assert "TRANSFORM(ARRAY(1, 2), x -> x + 1)" in text
    assert "7 DIV 2" in text and "CAST(a AS TIMESTAMP_NTZ)" in text
    assert "QUALIFY" not in text  # Spark has none: a subquery filters the window


@pytest.mark.parametrize(
    ("sql", "construct", "line", "column"),
    [
        ("SELECT o.order_id\nFROM silver.orders AS o\n  ASOF JOIN silver.orders AS p "
         "ON o.order_id >= p.order_id\n", "ASOF JOIN", 6, 3),
        ("SELECT *\nFROM silver.orders\nPOSITIONAL JOIN silver.orders AS p\n",
         "POSITIONAL JOIN", 6, 1),
        ("SELECT order_id,\n       COLUMNS('amount.*')\nFROM silver.orders\n",
         "COLUMNS(...)", 5, 8),
    ],
)
def test_a_construct_that_does_not_transpile_names_the_file_and_line(
    tmp_path: Path, sql: str, construct: str, line: int, column: int
) -> None:
    text, origin = model(tmp_path, sql)

    with pytest.raises(EngineError) as raised:
        to_spark(text, NAMES, origin, "gold.m")

    assert raised.value.message == (
        f"{construct} is DuckDB-only SQL and does not translate to Spark SQL"
    )
    assert raised.value.location == Location(origin.file, line, column)
    assert str(raised.value).startswith(f"{origin.file}:{line}:{column}: [gold.m] {construct}")
    assert "run this model on DuckDB" in (raised.value.hint or "")


def test_sql_that_does_not_parse_names_the_line(tmp_path: Path) -> None:
    text, origin = model(tmp_path, "SELECT amount\nFROM silver.orders\nWHERE\n")

    with pytest.raises(EngineError) as raised:
        to_spark(text, NAMES, origin, "gold.m")

    assert raised.value.message.startswith("cannot parse the SQL")
    assert raised.value.location is not None and raised.value.location.line == 6


READABLE = ["/data/warehouse", "/data/landing"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1; SELECT 2", "runs exactly one read-only statement; got 2"),
        ("INSERT INTO silver.orders VALUES (1)", "runs read-only statements only; got INSERT"),
        ("DROP TABLE silver.orders", "runs read-only statements only; got DROP"),
        ("SELECT * FROM read_parquet('/etc/passwd')", "cannot read '/etc/passwd'"),
        ("SELECT * FROM '/data/warehouse/../secret.csv'",
         "cannot read '/data/warehouse/../secret.csv'"),
        ('SELECT * FROM parquet."/tmp/x"', "cannot read '/tmp/x'"),
        ("SELECT reflect('java.lang.System', 'exit', 1)", "cannot call reflect()"),
    ],
)
def test_ad_hoc_queries_that_write_or_read_elsewhere_are_refused(sql: str, message: str) -> None:
    with pytest.raises(EngineError) as raised:
        read_only_spark_sql(sql, NAMES, READABLE)

    assert message in raised.value.message


def test_an_ad_hoc_query_may_read_tables_and_files_under_the_warehouse() -> None:
    text = read_only_spark_sql(
        "WITH t AS (SELECT * FROM silver.orders) SELECT count(*) FROM t "
        "UNION ALL SELECT count(*) FROM read_parquet('/data/warehouse/silver/orders/a.parquet')",
        NAMES, READABLE,
    )

    assert "`__afluente_silver__orders` AS orders" in text
    assert "parquet.`/data/warehouse/silver/orders/a.parquet`" in text
