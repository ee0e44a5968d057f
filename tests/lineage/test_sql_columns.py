"""Golden column lineage for each SQL construct: every edge of the output, exactly."""

from __future__ import annotations

import pytest

from afluente.lineage import UnresolvedSql, query_lineage

INPUTS = {
    "bronze.orders": ["order_id", "customer_id", "amount", "status", "_row_hash"],
    "bronze.customers": ["id", "name", "uf"],
}


def edges(sql: str) -> set[tuple[str, str, str, str]]:
    found = query_lineage(sql, "gold.t", INPUTS)
    return {(e.target.column, str(e.source), e.kind, e.detail) for e in found.edges}


def indirect(sql: str) -> set[tuple[str, str]]:
    return {(str(e.source), e.detail) for e in query_lineage(sql, "gold.t", INPUTS).indirect}


def test_select_star_resolves_every_column_of_the_table() -> None:
    assert edges("SELECT * FROM bronze.customers") == {
        ("id", "bronze.customers.id", "identity", ""),
        ("name", "bronze.customers.name", "identity", ""),
        ("uf", "bronze.customers.uf", "identity", ""),
    }


def test_cte_with_star_and_a_cast_reaches_the_base_table() -> None:
    sql = """WITH typed AS (SELECT CAST(amount AS DOUBLE) AS amount, * EXCLUDE (amount)
             FROM bronze.orders) SELECT amount, status AS state FROM typed"""
    assert edges(sql) == {
        ("amount", "bronze.orders.amount", "transformation", "cast"),
        ("state", "bronze.orders.status", "identity", ""),
    }


def test_join_maps_columns_to_both_sides_and_the_keys_are_indirect() -> None:
    sql = """SELECT o.order_id, c.name FROM bronze.orders AS o
             JOIN bronze.customers AS c ON c.id = o.customer_id"""
    assert edges(sql) == {
        ("order_id", "bronze.orders.order_id", "identity", ""),
        ("name", "bronze.customers.name", "identity", ""),
    }
    assert indirect(sql) == {("bronze.customers.id", "join"),
                             ("bronze.orders.customer_id", "join")}


def test_aggregation_and_group_by() -> None:
    sql = """SELECT c.uf, sum(o.amount) AS revenue, count(*) AS orders
             FROM bronze.orders o JOIN bronze.customers c ON c.id = o.customer_id
             WHERE o.status <> 'canceled' GROUP BY c.uf"""
    assert edges(sql) == {
        ("uf", "bronze.customers.uf", "identity", ""),
        ("revenue", "bronze.orders.amount", "aggregation", "sum"),
    }
    assert indirect(sql) == {
        ("bronze.customers.id", "join"), ("bronze.orders.customer_id", "join"),
        ("bronze.orders.status", "filter"), ("bronze.customers.uf", "group by"),
    }


def test_window_function_and_qualify() -> None:
    sql = """SELECT order_id, row_number() OVER (PARTITION BY customer_id ORDER BY amount) AS rn
             FROM bronze.orders
             QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _row_hash) = 1"""
    assert edges(sql) == {
        ("order_id", "bronze.orders.order_id", "identity", ""),
        ("rn", "bronze.orders.customer_id", "transformation", "window rownumber"),
        ("rn", "bronze.orders.amount", "transformation", "window rownumber"),
    }
    assert ("bronze.orders._row_hash", "filter") in indirect(sql)


def test_case_is_a_transformation_of_every_column_it_reads() -> None:
    sql = """SELECT CASE WHEN status = 'paid' THEN amount ELSE 0 END AS paid FROM bronze.orders"""
    assert edges(sql) == {
        ("paid", "bronze.orders.status", "transformation", "case"),
        ("paid", "bronze.orders.amount", "transformation", "case"),
    }


def test_union_takes_columns_from_every_branch_by_position() -> None:
    sql = """SELECT order_id AS id, status AS label FROM bronze.orders
             UNION ALL SELECT id, upper(name) FROM bronze.customers"""
    assert edges(sql) == {
        ("id", "bronze.orders.order_id", "identity", ""),
        ("id", "bronze.customers.id", "identity", ""),
        ("label", "bronze.orders.status", "identity", ""),
        ("label", "bronze.customers.name", "transformation", "upper"),
    }


def test_subquery_in_from() -> None:
    sql = """SELECT t.total * 2 AS double_total FROM
             (SELECT customer_id, sum(amount) AS total FROM bronze.orders GROUP BY 1) AS t"""
    assert edges(sql) == {("double_total", "bronze.orders.amount", "aggregation", "sum")}


def test_unknown_column_is_unresolved_with_the_construct_named() -> None:
    with pytest.raises(UnresolvedSql) as info:
        query_lineage("SELECT nope FROM bronze.orders", "gold.t", INPUTS)
    assert "nope" in info.value.construct


def masked(sql: str) -> set[tuple[str, str, bool]]:
    found = query_lineage(sql, "gold.t", INPUTS)
    return {(e.target.column, str(e.source), e.masking) for e in found.edges}


def test_hashing_and_counting_mask_the_values_they_read() -> None:
    sql = """WITH keyed AS (SELECT md5(name) AS name_key, sha256(uf || name) AS pair, id
                            FROM bronze.customers)
             SELECT name_key || id AS k, pair, hash(id) AS h, xxhash64(id) AS x,
                    upper(pair) AS shout, id FROM keyed"""
    assert masked(sql) == {
        ("k", "bronze.customers.name", True), ("k", "bronze.customers.id", False),
        ("pair", "bronze.customers.uf", True), ("pair", "bronze.customers.name", True),
        ("h", "bronze.customers.id", True), ("x", "bronze.customers.id", True),
        ("shout", "bronze.customers.uf", True), ("shout", "bronze.customers.name", True),
        ("id", "bronze.customers.id", False),
    }


def test_a_column_also_read_unhashed_is_not_masked() -> None:
    assert masked("SELECT md5(name) || name AS both_ways FROM bronze.customers") == {
        ("both_ways", "bronze.customers.name", False)}
    sql = """WITH t AS (SELECT md5(name) AS hidden, name AS shown FROM bronze.customers)
             SELECT hidden || shown AS both_ways FROM t"""
    assert masked(sql) == {("both_ways", "bronze.customers.name", False)}


def test_sums_do_not_mask_but_counts_do() -> None:
    sql = """SELECT customer_id, sum(amount) AS total, count(status) AS n, sha1(status) AS s
             FROM bronze.orders GROUP BY customer_id, status"""
    assert masked(sql) == {
        ("customer_id", "bronze.orders.customer_id", False),
        ("total", "bronze.orders.amount", False),
        ("n", "bronze.orders.status", True),
        ("s", "bronze.orders.status", True),
    }


def test_group_by_all_groups_by_every_projection_without_an_aggregate() -> None:
    sql = """SELECT c.uf, o.status, sum(o.amount) AS revenue FROM bronze.orders o
             JOIN bronze.customers c ON c.id = o.customer_id GROUP BY ALL"""
    assert edges(sql) == {
        ("uf", "bronze.customers.uf", "identity", ""),
        ("status", "bronze.orders.status", "identity", ""),
        ("revenue", "bronze.orders.amount", "aggregation", "sum"),
    }
    assert indirect(sql) == {
        ("bronze.customers.id", "join"), ("bronze.orders.customer_id", "join"),
        ("bronze.customers.uf", "group by"), ("bronze.orders.status", "group by"),
    }


PIVOTS = [
    "SELECT * FROM (PIVOT bronze.orders ON status IN ('paid', 'open') USING sum(amount) "
    "GROUP BY customer_id)",
    "SELECT * FROM bronze.orders PIVOT (sum(amount) FOR status IN ('paid', 'open') "
    "GROUP BY customer_id)",
]


@pytest.mark.parametrize("sql", PIVOTS)
def test_pivot_columns_aggregate_the_value_of_each_pivoted_row(sql: str) -> None:
    assert query_lineage(sql, "gold.t", INPUTS).columns == ("customer_id", "paid", "open")
    assert edges(sql) == {
        ("customer_id", "bronze.orders.customer_id", "identity", ""),
        ("paid", "bronze.orders.amount", "aggregation", "sum"),
        ("paid", "bronze.orders.status", "aggregation", "sum"),
        ("open", "bronze.orders.amount", "aggregation", "sum"),
        ("open", "bronze.orders.status", "aggregation", "sum"),
    }
    assert indirect(sql) == {("bronze.orders.customer_id", "group by")}


@pytest.mark.parametrize("sql", [
    *PIVOTS,
    "SELECT * FROM bronze.orders PIVOT (sum(amount) AS s FOR status IN ('paid' AS p, 'open'))",
    "SELECT * FROM (PIVOT bronze.orders ON status IN ('paid'), customer_id IN (1, 2) "
    "USING sum(amount), max(order_id))",
    "SELECT uf, count(*) AS n FROM bronze.customers GROUP BY ALL",
])
def test_pivot_and_group_by_all_columns_are_the_ones_duckdb_outputs(sql: str) -> None:
    import duckdb

    with duckdb.connect() as db:
        db.execute("CREATE SCHEMA bronze")
        db.execute("CREATE TABLE bronze.orders (order_id INT, customer_id INT, amount DOUBLE, "
                   "status TEXT, _row_hash TEXT)")
        db.execute("CREATE TABLE bronze.customers (id INT, name TEXT, uf TEXT)")
        described = [d[0] for d in db.execute(sql).description]
    assert query_lineage(sql, "gold.t", INPUTS).columns == tuple(described)


def test_pivot_without_an_in_list_is_unresolved_with_the_reason() -> None:
    with pytest.raises(UnresolvedSql) as info:
        query_lineage("SELECT * FROM (PIVOT bronze.orders ON status USING sum(amount))",
                      "gold.t", INPUTS)
    assert info.value.construct == "PIVOT without an IN list: its columns depend on the data"
