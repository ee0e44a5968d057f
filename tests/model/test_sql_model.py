"""SQL models: one SELECT per file, syntax errors at file:line:col, `layer.table` references."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.errors import Location, ModelError
from afluente.model import TableRef
from afluente.model.sql_model import parse_query, table_references

from .conftest import ProjectTree

FILE = Path("models/gold/m.sql")
ONE_SELECT = "fix the SQL near that position; the model must be one SELECT statement"


def deps(sql: str) -> list[str]:
    return [str(d.ref) for d in table_references(parse_query(sql, FILE), FILE)]


def parse_error(sql: str) -> ModelError:
    with pytest.raises(ModelError) as caught:
        parse_query(sql, FILE)
    return caught.value


# -- references ---------------------------------------------------------------------------


def test_references_in_order_of_first_appearance_without_duplicates() -> None:
    sql = """
        SELECT *
        FROM silver.orders AS o
        JOIN silver.customers AS c ON c.id = o.customer_id
        JOIN silver.orders AS again ON again.id = o.id
        WHERE o.product_id IN (SELECT id FROM silver.products)
    """

    assert deps(sql) == ["silver.orders", "silver.customers", "silver.products"]


def test_a_repeated_reference_keeps_its_first_location() -> None:
    sql = "SELECT *\nFROM silver.b\nJOIN silver.a USING (id)\nJOIN silver.b AS b2 USING (id)\n"

    found = table_references(parse_query(sql, FILE), FILE)

    assert [(str(d.ref), d.location.line) for d in found] == [("silver.b", 2), ("silver.a", 3)]


def test_cte_names_are_not_dependencies() -> None:
    sql = """
        WITH recent AS (SELECT * FROM silver.orders WHERE ordered_at > DATE '2026-01-01'),
             totals AS (SELECT customer_id, sum(amount) AS amount FROM recent GROUP BY 1)
        SELECT * FROM totals JOIN silver.customers USING (customer_id)
    """

    assert deps(sql) == ["silver.orders", "silver.customers"]


def test_table_functions_and_unqualified_names_are_not_dependencies() -> None:
    sql = """
        SELECT * FROM read_csv('landing/extra.csv', delim = ';') AS x
        JOIN read_parquet('s3://bucket/*.parquet') AS p USING (id)
        JOIN lookup USING (id)
    """

    assert deps(sql) == []


def test_system_schemas_and_catalog_qualified_names_are_not_dependencies() -> None:
    sql = """
        SELECT * FROM information_schema.tables
        JOIN main.t USING (id) JOIN pg_catalog.pg_class USING (id)
        JOIN other_db.silver.orders USING (id)
        JOIN silver.real USING (id)
    """

    assert deps(sql) == ["silver.real"]


def test_references_are_case_insensitive() -> None:
    assert deps("SELECT * FROM Silver.Orders JOIN SILVER.orders USING (id)") == ["silver.orders"]


def test_set_operations_are_queries_with_references_on_both_sides() -> None:
    assert deps("SELECT id FROM silver.a UNION ALL SELECT id FROM silver.b") == [
        "silver.a",
        "silver.b",
    ]


def test_reference_lines_count_the_header(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/m.sql": """\
        /* @config
        kind: view
        */
        SELECT *
        FROM silver.customers
        """
        }
    )

    node = starter.graph()[TableRef("gold", "m")]

    assert [d.location.line for d in node.depends_on] == [5]


# -- unknown tables -------------------------------------------------------------------------


def test_unknown_table_names_the_model_file_line_and_close_match(starter: ProjectTree) -> None:
    starter.write({"models/gold/x.sql": "SELECT *\nFROM   silver.ordres AS o\n"})

    error = starter.error(ModelError)

    assert error.message == "`gold.x` reads unknown table `silver.ordres`"
    assert error.location is not None
    assert (error.location.file, error.location.line) == (starter.path("models/gold/x.sql"), 2)
    assert error.hint == "did you mean `silver.orders`?"
    assert error.table is None
    assert str(error).startswith(f"{starter.path('models/gold/x.sql')}:2:")


def test_unknown_table_column_is_where_the_reference_starts(starter: ProjectTree) -> None:
    starter.write({"models/gold/x.sql": "SELECT *\nFROM   silver.ordres AS o\n"})

    error = starter.error(ModelError)

    assert error.location == Location(starter.path("models/gold/x.sql"), 2, 8)


def test_unknown_table_without_close_match(starter: ProjectTree) -> None:
    starter.write({"models/gold/x.sql": "SELECT * FROM silver.zzzzzz\n"})

    error = starter.error(ModelError)

    assert error.message == "`gold.x` reads unknown table `silver.zzzzzz`"
    assert error.hint == "no table has a similar name; add a model file or a source for it"


# -- statements -----------------------------------------------------------------------------


def test_syntax_error_names_file_line_and_column() -> None:
    error = parse_error("SELECT (a\nFROM t")

    assert error.message == "SQL syntax error: Expecting )"
    assert error.location == Location(FILE, 2, 4)
    assert error.hint == ONE_SELECT


def test_syntax_error_on_a_later_line() -> None:
    error = parse_error("SELECT a\nFROM silver.orders\nGROUP BY BY a\n")

    assert error.message == "SQL syntax error: Invalid expression / Unexpected token"
    assert error.location == Location(FILE, 3, 13)


def test_syntax_error_through_discovery_names_the_model_file(starter: ProjectTree) -> None:
    starter.write({"models/gold/s.sql": "/* @config\nkind: view\n*/\nSELECT CAST(a AS) FROM t\n"})

    error = starter.error(ModelError)

    assert error.message == "SQL syntax error: Expected TYPE after CAST"
    assert error.location == Location(starter.path("models/gold/s.sql"), 4, 17)


def test_syntax_error_message_does_not_leak_sqlglot_internals() -> None:
    error = parse_error("SELECT a FROM silver.orders WHERE")

    assert error.location == Location(FILE, 1, 33)
    assert "<class" not in error.message


def test_two_statements_point_at_the_second() -> None:
    error = parse_error("-- first\nSELECT 1 AS a;\n\nSELECT x FROM t;\n")

    assert error.message == "a model holds one SELECT statement, found 2"
    assert error.location == Location(FILE, 4)
    assert error.hint == (
        "split the statements into one model file each, or combine them with CTEs"
    )


def test_second_statement_without_identifiers_is_still_located() -> None:
    error = parse_error("SELECT 1;\nSELECT 2;\n")

    assert error.location == Location(FILE, 2)


def test_a_single_statement_may_end_with_a_semicolon() -> None:
    assert parse_query("SELECT 1 AS a;\n", FILE).sql() == "SELECT 1 AS a"


@pytest.mark.parametrize(
    ("sql", "kind", "line"),
    [
        ("\n\nCREATE TABLE gold.c AS SELECT 1 AS a\n", "CREATE", 3),
        ("INSERT INTO gold.c SELECT 1 AS a", "INSERT", 1),
        ("DELETE FROM gold.c\nWHERE a = 1", "DELETE", 1),
    ],
)
def test_non_select_statement(sql: str, kind: str, line: int) -> None:
    error = parse_error(sql)

    assert error.message == f"a model must be a SELECT query, found {kind}"
    assert error.location == Location(FILE, line)
    assert error.hint == "afluente writes the table itself: keep only the SELECT"


@pytest.mark.parametrize(
    "sql", ["", "   \n", "-- only a comment\n", "/* @config\nkind: view\n*/\n"]
)
def test_a_model_without_query(sql: str) -> None:
    error = parse_error(sql)

    assert error.message == "the model has no query"
    assert error.location == Location(FILE, 1)
    assert error.hint == "write one SELECT statement after the header"
