"""The demo project's models, run by the raw-DuckDB baseline over a small landing zone."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.model import Graph, TableRef, load_graph
from afluente.runtime import run_project
from afluente.storage import Warehouse
from afluente.transform import UNKNOWN_KEY, visible_rows_sql

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "src/afluente/demo/project"
UNKNOWN_MD5 = "6bb61e3b7bce0931da574d19d1d82c88"  # md5('-1'): unknown product and seller


def load_bench() -> ModuleType:
    """bench/raw_duckdb.py is a script, not a package module: import it by path."""
    if "raw_duckdb_bench" in sys.modules:
        return sys.modules["raw_duckdb_bench"]
    spec = importlib.util.spec_from_file_location("raw_duckdb_bench", ROOT / "bench/raw_duckdb.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def cpf_is_valid(digits: str) -> bool:
    if not re.fullmatch(r"\d{11}", digits) or len(set(digits)) == 1:
        return False
    numbers = [int(ch) for ch in digits]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(numbers[:size], range(size + 1, 1, -1), strict=True))
        if total * 10 % 11 % 10 != numbers[size]:
            return False
    return True


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """The demo built by afluente itself (the incremental kinds have no raw-SQL equivalent),
    every table attached to DuckDB as its readers see it."""
    root = tmp_path_factory.mktemp("demo")
    prepare_demo(root, orders=2_000, seed=11)
    project = load_project(root)
    result = run_project(project)
    assert result.status == "success", [m.reason for m in result.failed]
    return attach_warehouse(Warehouse(project.warehouse_uri), load_graph(project, cache=False))


def attach_warehouse(warehouse: Warehouse, graph: Graph) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for ref in graph.order:
        if not warehouse.exists(ref):
            continue
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {ref.layer}")
        stored = f"__{ref.layer}_{ref.name}"
        connection.register(stored, warehouse.dataset(ref))
        node = graph[ref]
        body = (
            visible_rows_sql(stored, node.config.scd_type or 1)
            if node.kind == "apply_changes"
            else f"SELECT * FROM {stored}"
        )
        connection.execute(f"CREATE VIEW {ref} AS {body}")
    return connection


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def test_every_sql_model_parses_and_references_known_tables() -> None:
    bench = load_bench()
    models = bench.read_models(PROJECT)
    sources = {
        f"bronze.{name}"
        for name in (
            "customers",
            "customer_updates",
            "categories",
            "products",
            "sellers",
            "orders",
            "order_items",
            "payments",
        )
    }
    for model in models.values():
        assert set(model.inputs) <= set(models) | sources, model.name
        if model.path.suffix != ".sql":
            continue
        text = model.path.read_text(encoding="utf-8")
        assert text.startswith("/* @config")
        tree = sqlglot.parse_one(bench.HEADER.sub("", text), read="duckdb")
        ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
        tables = {
            f"{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.db or t.name not in ctes
        }
        assert tables == set(model.inputs), model.name


def test_silver_customers_unique_with_checked_cpfs(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) - count(DISTINCT customer_id) FROM silver.customers") == 0
    assert one(con, "SELECT count(*) FROM silver.customers") == 400
    raw = dict(
        con.execute("""
        SELECT DISTINCT customer_id, regexp_replace(coalesce(cpf, ''), '[^0-9]', '', 'g')
        FROM bronze.customers""").fetchall()
    )
    for customer_id, cpf, valid in con.execute(
        "SELECT customer_id, cpf, cpf_valid FROM silver.customers"
    ).fetchall():
        assert valid == cpf_is_valid(raw[str(customer_id)])
        assert cpf == (raw[str(customer_id)] if valid else None)
    assert one(con, "SELECT count(*) FROM silver.customers WHERE NOT cpf_valid") > 0


def test_silver_customers_conformed(con: duckdb.DuckDBPyConnection) -> None:
    cities = {r[0] for r in con.execute("SELECT DISTINCT city FROM silver.customers").fetchall()}
    assert "São Paulo" in cities
    assert not {"SAO PAULO", "são paulo", "sao paulo", "SÃO PAULO"} & cities
    ufs = {r[0] for r in con.execute("SELECT DISTINCT uf FROM silver.customers").fetchall()}
    assert all(uf is None or re.fullmatch(r"[A-Z]{2}", uf) for uf in ufs)
    bad = one(
        con,
        """SELECT count(*) FROM silver.customers
                      WHERE name <> trim(name) OR name = upper(name) OR name = lower(name)
                         OR email <> lower(trim(email))""",
    )
    assert bad == 0


def test_silver_orders_keep_the_latest_version(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM silver.orders") == 2_000
    assert one(con, "SELECT count(DISTINCT order_id) FROM silver.orders") == 2_000
    expected = dict(
        con.execute("""
        SELECT CAST(order_id AS BIGINT), arg_max(lower(status), updated_at)
        FROM bronze.orders GROUP BY order_id""").fetchall()
    )
    updated = {
        r[0]
        for r in con.execute("""
        SELECT DISTINCT CAST(order_id AS BIGINT) FROM bronze.orders
        WHERE _source LIKE '%orders_updates_%'""").fetchall()
    }
    assert len(updated) > 20
    actual = dict(con.execute("SELECT order_id, status FROM silver.orders").fetchall())
    assert actual == expected
    unparsed = one(con, "SELECT count(*) FROM silver.orders WHERE purchased_at IS NULL")
    assert 0 < unparsed < 100


def test_silver_money_parsed(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM silver.payments WHERE amount IS NULL") == 0
    assert one(con, "SELECT count(*) FROM silver.order_items WHERE unit_price IS NULL") == 0
    paid, due = one(
        con,
        """
        SELECT sum(paid_amount), sum(gross_amount + freight_amount) FROM gold.fct_orders""",
    )
    assert abs(paid - due) / due < 0.01  # payments match items but for missing freight


def test_fct_orders_one_row_per_order_and_keys_resolve(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM gold.fct_orders") == 2_000
    assert one(con, "SELECT count(DISTINCT order_id) FROM gold.fct_orders") == 2_000
    for fact, key, dim in (
        ("fct_orders", "customer_key", "dim_customer"),
        ("fct_orders", "date_key", "dim_date"),
        ("fct_order_items", "customer_key", "dim_customer"),
        ("fct_order_items", "product_key", "dim_product"),
        ("fct_order_items", "seller_key", "dim_seller"),
        ("fct_order_items", "date_key", "dim_date"),
    ):
        orphans = one(
            con,
            f"""SELECT count(*) FROM gold.{fact} f
                               ANTI JOIN gold.{dim} d ON d.{key} = f.{key}""",
        )
        assert orphans == 0, (fact, key)
    for dim, key in (
        ("dim_customer", "customer_key"),
        ("dim_product", "product_key"),
        ("dim_date", "date_key"),
        ("dim_seller", "seller_key"),
    ):
        assert one(con, f"SELECT count(*) - count(DISTINCT {key}) FROM gold.{dim}") == 0


def test_missing_customers_point_to_the_unknown_member(con: duckdb.DuckDBPyConnection) -> None:
    missing = one(
        con,
        """SELECT count(*) FROM silver.orders o
                          ANTI JOIN silver.customers c USING (customer_id)""",
    )
    assert missing > 0
    assert (
        one(con, f"SELECT count(*) FROM gold.fct_orders WHERE customer_key = {UNKNOWN_KEY}")
        == missing
    )
    assert (
        one(con, f"SELECT customer_id FROM gold.dim_customer WHERE customer_key = {UNKNOWN_KEY}")
        == -1
    )


def test_revenue_mart_adds_up(con: duckdb.DuckDBPyConnection) -> None:
    mart = one(con, "SELECT sum(gross_revenue) FROM gold.revenue_by_state_month")
    items = one(
        con,
        """SELECT sum(i.revenue) FROM silver.order_items i
                        JOIN silver.orders o USING (order_id) WHERE o.status <> 'canceled'""",
    )
    assert mart == items > 0
    orders = one(con, "SELECT sum(orders) FROM gold.revenue_by_state_month")
    assert orders == one(con, "SELECT count(*) FROM silver.orders WHERE status <> 'canceled'")
    assert one(con, "SELECT count(*) FROM gold.revenue_by_state_month WHERE uf = '??'") > 0


def test_dim_date_calendar(con: duckdb.DuckDBPyConnection) -> None:
    first, last = one(con, "SELECT min(order_date), max(order_date) FROM silver.orders")
    days = one(con, "SELECT count(*) FROM gold.dim_date WHERE date_key <> -1")
    assert days == (last - first).days + 1
    row = con.execute("""SELECT month_name, day_name, is_weekend, is_holiday, holiday_name,
                                iso_week, quarter
                         FROM gold.dim_date WHERE date = DATE '2023-09-07'""").fetchone()
    assert row == ("setembro", "quinta-feira", False, True, "Independência do Brasil", 36, 3)
    zumbi = "SELECT is_holiday FROM gold.dim_date WHERE date = DATE '{}-11-20'"
    assert one(con, zumbi.format(2023)) is False
    assert one(con, zumbi.format(2024)) is True


def test_customer_dimension_replays_the_change_feed_in_business_time(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Whatever file an event landed in, each customer's versions follow updated_at: the
    current version is the latest event's state, deleted customers have none, and every
    version but the last is closed where the next one starts."""
    events = con.execute("""
        SELECT customer_id, op, email, city,
               row_number() OVER (PARTITION BY customer_id ORDER BY updated_at DESC) AS newest
        FROM silver.customer_updates""").fetchall()
    assert len(events) > 20
    latest = {cid: (op, email, city) for cid, op, email, city, newest in events if newest == 1}
    current = {
        cid: (email, city)
        for cid, email, city in con.execute(
            "SELECT customer_id, email, city FROM gold.dim_customer WHERE is_current"
        ).fetchall()
    }
    deleted = [cid for cid, (op, _, _) in latest.items() if op == "D"]
    assert all(cid not in current for cid in deleted)
    for cid, (op, email, city) in latest.items():
        if op == "U":
            assert current[cid] == (email, city), cid
    gaps = one(con, """
        SELECT count(*) FROM (
          SELECT valid_to, lead(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from)
                 AS next_from, is_current
          FROM gold.dim_customer WHERE customer_id > 0)
        WHERE next_from IS NOT NULL AND valid_to IS DISTINCT FROM next_from""")
    assert gaps == 0
    # the feed really has events that landed after newer ones of the same customer
    landed_late = one(con, """
        SELECT count(*) FROM (
          SELECT updated_at < max(updated_at) OVER (
                   PARTITION BY customer_id ORDER BY _source
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS late
          FROM (SELECT TRY_CAST(customer_id AS BIGINT) AS customer_id,
                       TRY_CAST(updated_at AS TIMESTAMP) AS updated_at, _source
                FROM bronze.customer_updates))
        WHERE late""")
    assert landed_late > 0


def fct_orders_sql() -> str:
    text = (PROJECT / "models/gold/fct_orders.sql").read_text(encoding="utf-8")
    return str(load_bench().HEADER.sub("", text))


def test_fct_orders_joins_are_hash_joins(con: duckdb.DuckDBPyConnection) -> None:
    plan = "\n".join(str(row[1]) for row in con.execute(f"EXPLAIN {fct_orders_sql()}").fetchall())
    assert "HASH_JOIN" in plan
    assert "NESTED_LOOP_JOIN" not in plan
    assert "BLOCKWISE_NL_JOIN" not in plan


def test_fct_orders_matches_the_or_form_of_the_customer_lookup(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """The open end as the end of time and the unconditional first-version join give the rows the
    plain predicates give: `valid_to IS NULL OR at < valid_to`, the first version only when
    no version is valid."""
    sql = fct_orders_sql()
    lookup = "AND o.customer_at < coalesce(c.valid_to, TIMESTAMPTZ '9999-12-31 23:59:59+00')"
    first = "ON f.customer_id = o.customer_id\n"
    assert lookup in sql and first in sql
    plain = sql.replace(lookup, "AND (c.valid_to IS NULL OR o.customer_at < c.valid_to)").replace(
        first, "ON f.customer_id = o.customer_id AND c.customer_key IS NULL\n"
    )
    rows = con.execute(f"SELECT * FROM ({sql}) ORDER BY order_id").fetchall()
    assert len(rows) == 2_000
    assert rows == con.execute(f"SELECT * FROM ({plain}) ORDER BY order_id").fetchall()
    # the fixture's orders reach every branch: no purchase time, older than the customer's
    # first version, missing customer
    branches = one(
        con,
        """SELECT count(*) FILTER (WHERE o.purchased_at IS NULL),
                  count(*) FILTER (WHERE o.purchased_at < m.first_from),
                  count(*) FILTER (WHERE m.first_from IS NULL)
           FROM silver.orders o LEFT JOIN (
             SELECT customer_id, min(valid_from) AS first_from
             FROM gold.dim_customer GROUP BY customer_id) m USING (customer_id)""",
    )
    assert min(branches) > 0, branches


def test_revenue_forecast_per_state_and_its_backtest(con: duckdb.DuckDBPyConnection) -> None:
    states = one(con, "SELECT count(DISTINCT uf) FROM gold.revenue_by_state_month "
                      "WHERE month IS NOT NULL")
    assert one(con, "SELECT count(*), count(DISTINCT uf), min(month), max(month) "
                    "FROM gold.revenue_forecast") == (
        states * 2 * 6, states, date(2025, 1, 1), date(2025, 6, 1))
    # the baseline by hand: January 2025 of each state is its revenue of January 2024
    assert one(con, """
        SELECT count(*) FROM gold.revenue_forecast AS f
        LEFT JOIN gold.revenue_by_state_month AS r
          ON r.uf = f.uf AND r.month = DATE '2024-01-01'
        WHERE f.method = 'seasonal_naive' AND f.month = DATE '2025-01-01'
          AND abs(f.forecast - coalesce(r.gross_revenue, 0)) > 1e-6""") == 0
    # 24 months of orders; origins from month 14 (March 2024) to the last with 3 after it
    assert one(con, "SELECT count(*), min(origins), max(origins), min(first_origin), "
                    "max(last_origin) FROM gold.revenue_backtest") == (
        states * 2, 8, 8, date(2024, 3, 1), date(2024, 10, 1))
    assert one(con, "SELECT count(*) FROM gold.revenue_backtest WHERE method = "
                    "'seasonal_naive' AND beats_baseline") == 0
    graph = load_graph(load_project(PROJECT), cache=False)
    assert {str(r) for r in graph.upstream_of([TableRef("gold", "revenue_backtest")])} >= {
        "gold.revenue_by_state_month", "silver.orders", "bronze.orders"}
