"""Which queries carry bronze's lineage columns to the quarantine, and how (pure rewrite)."""

from __future__ import annotations

import pytest

from afluente.quality.row_lineage import with_lineage

SOURCE = '"{t}"."_source" AS "__afq_lineage__source"'


def bronze(schema: str, table: str) -> list[str]:
    return ["_source", "_rescued_data"] if (schema, table) == ("bronze", "orders") else []


def test_a_plain_select_gets_the_hidden_lineage_columns() -> None:
    sql, added = with_lineage("SELECT CAST(id AS INT) AS id FROM bronze.orders WHERE id > 1",
                              bronze)
    assert added == ["_source", "_rescued_data"]
    assert sql == ('SELECT CAST(id AS INT) AS id, "orders"."_source" AS "__afq_lineage__source", '
                   '"orders"."_rescued_data" AS "__afq_lineage__rescued_data" '
                   "FROM bronze.orders WHERE id > 1")


def test_the_table_carrying_lineage_drives_a_join_through_its_alias() -> None:
    sql, added = with_lineage(
        "SELECT o.id, c.name FROM bronze.customers AS c JOIN bronze.orders AS o ON o.c = c.id",
        bronze, ["_source"])
    assert added == ["_source"]
    assert SOURCE.format(t="o") in sql
    assert "_rescued_data" not in sql


def test_lineage_is_traced_through_ctes_and_subqueries() -> None:
    sql, added = with_lineage(
        "WITH s AS (SELECT id FROM (SELECT * FROM bronze.orders) AS r) SELECT id FROM s AS x",
        bronze, ["_source"])
    assert added == ["_source"]
    assert SOURCE.format(t="orders") in sql
    assert '"r"."__afq_lineage__source" AS "__afq_lineage__source"' in sql
    assert '"x"."__afq_lineage__source" AS "__afq_lineage__source"' in sql


@pytest.mark.parametrize("query", [
    "SELECT customer, sum(amount) AS total FROM bronze.orders GROUP BY customer",
    "SELECT count(*) AS n FROM bronze.orders",
    "SELECT DISTINCT customer FROM bronze.orders",
    "SELECT id FROM bronze.orders UNION ALL SELECT id FROM bronze.orders",
    "SELECT id FROM bronze.customers",
    "SELECT id FROM read_csv('x.csv')",
    "SELECT FROM WHERE",
])
def test_a_query_whose_rows_are_not_one_bronze_row_each_is_unchanged(query: str) -> None:
    assert with_lineage(query, bronze) == (query, [])


def test_a_window_keeps_rows_one_to_one() -> None:
    _, added = with_lineage(
        "SELECT id, sum(amount) OVER (PARTITION BY id) AS s FROM bronze.orders", bronze)
    assert added == ["_source", "_rescued_data"]
