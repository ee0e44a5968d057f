"""Which `full` queries are maintained by group, their keys, and why the others are not."""

from __future__ import annotations

import pytest

from afluente.model.group_shape import GroupShape, NotByGroup, group_shape


@pytest.mark.parametrize(("sql", "keys"), [
    ("SELECT customer_id, sum(amount) AS total FROM silver.orders GROUP BY customer_id",
     {"customer_id": "customer_id"}),
    ("SELECT CAST(o.ts AS DATE) AS day, i.category, count(DISTINCT o.id) AS n "
     "FROM silver.items i JOIN silver.orders o ON o.id = i.order_id GROUP BY ALL",
     {"day": "CAST(o.ts AS DATE)", "category": "i.category"}),
    ("SELECT c.id, c.uf AS state, count(o.id) AS n FROM silver.customers c "
     "LEFT JOIN silver.orders o ON o.customer_id = c.id GROUP BY 1, state",
     {"id": "c.id", "state": "c.uf"}),
    ("SELECT min(amount) AS low, max(amount) AS high, day FROM silver.orders "
     "GROUP BY day HAVING count(*) > 1", {"day": "day"}),
])
def test_group_keys_are_the_output_columns_of_the_group_by(sql: str, keys: dict[str, str]
                                                          ) -> None:
    shape = group_shape(sql)
    assert isinstance(shape, GroupShape)
    assert {k.name: k.sql for k in shape.keys} == keys


@pytest.mark.parametrize(("sql", "reason"), [
    ("SELECT sum(amount) AS total FROM silver.orders",
     "it has no GROUP BY (one row from every input row)"),
    ("SELECT id, row_number() OVER (ORDER BY id) AS n FROM silver.orders",
     "it has a window function (`ROW_NUMBER() OVER (ORDER BY id)`)"),
    ("SELECT a, count(*) AS n FROM silver.t GROUP BY a UNION ALL SELECT 1, 2",
     "it is not a single SELECT (a UNION or another statement)"),
    ("WITH x AS (SELECT * FROM silver.t) SELECT a, count(*) AS n FROM x GROUP BY a",
     "it has a WITH clause"),
    ("SELECT a, count(*) AS n FROM (SELECT a FROM silver.t) s GROUP BY a",
     "it has a subquery"),
    ("SELECT a, count(*) AS n FROM silver.t GROUP BY a LIMIT 3", "it has LIMIT"),
    ("SELECT a, max(now()) AS at FROM silver.t GROUP BY a", "`now()` differs between runs"),
    ("SELECT a, count(*) AS n FROM silver.t x FULL JOIN silver.u y ON x.a = y.a GROUP BY a",
     "it has a FULL join"),
    ("SELECT a + 1, count(*) AS n FROM silver.t GROUP BY a + 1",
     "its group key `a + 1` has no name (add AS name)"),
    ("SELECT a, count(*) AS n FROM silver.t GROUP BY b",
     "its group key `b` is not an output column"),
    ("SELECT c.id, o.status, count(*) AS n FROM silver.c c LEFT JOIN silver.o o "
     "ON o.cid = c.id GROUP BY ALL",
     "its group key `status` comes from the optional side of a LEFT JOIN"),
    ("SELECT c.id, count(*) AS n FROM silver.c c LEFT JOIN silver.o o ON o.cid = c.id "
     "WHERE o.status IS NULL GROUP BY ALL", "WHERE reads the optional side of a LEFT JOIN"),
    ("SELECT id, count(*) AS n FROM silver.c c LEFT JOIN silver.o o ON o.cid = c.id "
     "GROUP BY ALL", "a query with a LEFT JOIN must qualify its columns (`alias.column`)"),
    ("SELECT a, count(*) AS n FROM read_csv('x.csv') GROUP BY a",
     "it reads `READ_CSV('x.csv')`, not a `layer.table` of the project"),
])
def test_a_query_that_is_not_by_group_says_why(sql: str, reason: str) -> None:
    assert group_shape(sql) == NotByGroup(reason)


def test_a_changed_input_on_the_optional_side_is_joined_inner_when_finding_groups() -> None:
    shape = group_shape("SELECT c.id, count(o.id) AS n FROM silver.c c "
                        "LEFT JOIN silver.o o ON o.cid = c.id GROUP BY c.id")
    assert isinstance(shape, GroupShape)
    assert shape.touched_sql({1: "s.o_changed"}, {}) == (
        "SELECT DISTINCT c.id AS id FROM silver.c AS c JOIN s.o_changed AS o ON o.cid = c.id")
    assert shape.touched_sql({0: "s.c_changed"}, {0: "s.c_grown"}) == (
        "SELECT DISTINCT c.id AS id FROM s.c_changed AS c LEFT JOIN silver.o AS o "
        "ON o.cid = c.id")


def test_the_changed_rows_keep_the_columns_the_query_reads() -> None:
    shape = group_shape("SELECT c.uf, sum(o.amount) AS total FROM silver.orders o "
                        "JOIN silver.customers c ON c.id = o.customer_id GROUP BY c.uf")
    assert isinstance(shape, GroupShape)
    assert shape.columns_of("o") == ("amount", "customer_id")
    using = group_shape("SELECT c.uf, count(*) AS n FROM silver.orders AS o "
                        "JOIN silver.customers AS c USING (customer_id) GROUP BY c.uf")
    assert isinstance(using, GroupShape)
    assert using.columns_of("o") is None  # a USING column is read but not named
