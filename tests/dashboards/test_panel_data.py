"""The demo's revenue dashboard: each panel's rows equal the same figures computed here in
Python from the gold tables' Delta files; filters narrow them; the governed reader's masks
and row filters apply to a role; a failing query names the dashboard and the panel."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from afluente.config import load_project
from afluente.dashboards import DashboardError, find_dashboard
from afluente.dashboards.filters import filter_values
from afluente.dashboards.panel_data import filter_choices, panel_data
from afluente.errors import AfluenteError
from afluente.governance.identity import Identity
from afluente.governance.reader import GovernedReader
from afluente.model import TableRef
from afluente.storage import Warehouse

FUNNEL = ("created", "approved", "invoiced", "shipped", "delivered")


def gold(root: Path, name: str) -> list[dict[str, Any]]:
    return DeltaTable(str(root / "warehouse" / "gold" / name)).to_pyarrow_table().to_pylist()


def orders_with_state(root: Path) -> list[dict[str, Any]]:
    """fct_orders with the customer's state and the purchase month (revenue_by_state_month's
    joins, written again here)."""
    customers = {c["customer_key"]: c["uf"] for c in gold(root, "dim_customer")}
    months = {d["date_key"]: d["month_start"] for d in gold(root, "dim_date")}
    found = []
    for order in gold(root, "fct_orders"):
        if order["customer_key"] in customers and order["date_key"] in months:
            found.append({**order, "uf": customers[order["customer_key"]] or "??",
                          "month": months[order["date_key"]]})
    return found


def rows_of(root: Path, panel: str, **given: str) -> list[list[Any]]:
    project = load_project(root)
    dashboard = find_dashboard(project, "revenue")
    return panel_data(project, dashboard, panel, filter_values(dashboard, given)).rows


def test_revenue_by_state_equals_the_orders_summed_by_state(demo: Path) -> None:
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders_with_state(demo):
        if order["status"] != "canceled":
            expected[order["uf"]] += order["gross_amount"]

    rows = rows_of(demo, "revenue_by_state")

    assert {uf: Decimal(revenue) for uf, revenue in rows} == dict(expected)
    assert [Decimal(r[1]) for r in rows] == sorted((Decimal(r[1]) for r in rows), reverse=True)
    assert len(rows) > 5


def test_a_state_and_a_date_narrow_every_panel(demo: Path) -> None:
    orders = [o for o in orders_with_state(demo) if o["status"] != "canceled"]
    since = sorted({o["month"] for o in orders if o["month"] is not None})[3]
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders:
        if order["uf"] == "SP" and order["month"] is not None and order["month"] >= since:
            by_month[order["month"].isoformat()] += order["gross_amount"]

    rows = rows_of(demo, "revenue_by_month", uf="SP", since=since.isoformat())

    assert [(month, Decimal(revenue)) for month, revenue, _ in rows] == sorted(by_month.items())
    assert rows_of(demo, "revenue_by_state", uf="SP", since=since.isoformat()) == [
        ["SP", str(sum(by_month.values()))]]


def test_top_categories_equal_the_items_summed_by_category(demo: Path) -> None:
    products = {p["product_key"]: p["category"] for p in gold(demo, "dim_product")}
    open_orders = {o["order_id"] for o in orders_with_state(demo) if o["status"] != "canceled"}
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for item in gold(demo, "fct_order_items"):
        if item["order_id"] in open_orders and item["product_key"] in products:
            expected[products[item["product_key"]]] += item["revenue"]
    top = sorted(expected.items(), key=lambda kv: kv[1], reverse=True)[:10]

    rows = rows_of(demo, "top_categories")

    assert [(c, Decimal(r)) for c, r in rows] == top


def test_the_funnel_counts_the_orders_that_reached_each_stage(demo: Path) -> None:
    statuses = Counter(o["status"] for o in orders_with_state(demo))
    reached = [sum(statuses[s] for s in FUNNEL[i:]) for i in range(len(FUNNEL))]

    rows = rows_of(demo, "order_funnel")
    table = rows_of(demo, "order_funnel_table")

    assert [(stage, orders) for _, stage, orders, _ in rows] == list(zip(FUNNEL, reached,
                                                                          strict=True))
    assert [share for *_, share in rows] == [round(n / reached[0], 4) for n in reached]
    assert table == rows


def test_the_state_filter_offers_the_states_of_the_mart(demo: Path) -> None:
    project = load_project(demo)
    dashboard = find_dashboard(project, "revenue")
    states = sorted({r["uf"] for r in gold(demo, "revenue_by_state_month")})

    assert filter_choices(project, dashboard, "uf") == states
    assert filter_choices(project, dashboard, "since") is None


MASKED = """\
title: Customers
filters:
  uf: {choices: {column: gold.dim_customer.uf}}
panels:
  customers:
    title: Customers
    chart: table
    query: |
      SELECT customer_id, cpf, email, uf FROM gold.dim_customer
      WHERE is_current AND customer_id > 0 AND ({{ uf }} IS NULL OR uf = {{ uf }})
      ORDER BY customer_id
"""


def test_masks_and_row_filters_apply_to_a_role(demo: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFLUENTE_MASK_KEY", "dashboard-tests")
    (demo / "dashboards" / "customers.yml").write_text(MASKED, encoding="utf-8")
    project = load_project(demo)
    dashboard = find_dashboard(project, "customers")
    raw = {r["customer_id"]: r for r in gold(demo, "dim_customer") if r["is_current"]
           and r["customer_id"] > 0}
    values = filter_values(dashboard, {})

    analyst = GovernedReader.for_identity(project, Identity("service:bi", "analyst"))
    seen = panel_data(project, dashboard, "customers", values, analyst).rows
    sp = GovernedReader.for_identity(project, Identity("service:sp", "sp_analyst"))
    seen_sp = panel_data(project, dashboard, "customers", values, sp).rows

    assert [r[0] for r in seen] == sorted(raw)
    with_cpf = [r for r in seen if raw[r[0]]["cpf"]]
    for row in with_cpf:  # partial: stars, then the last 4 characters
        cpf = raw[row[0]]["cpf"]
        assert row[1] == "*" * (len(cpf) - 4) + cpf[-4:] != cpf
    assert all(r[2] != raw[r[0]]["email"] for r in seen if raw[r[0]]["email"])
    assert [r[0] for r in seen_sp] == sorted(k for k, r in raw.items() if r["uf"] == "SP")
    assert {r[3] for r in seen_sp} == {"SP"}
    assert filter_choices(project, dashboard, "uf", sp) == ["SP"]
    (demo / "dashboards" / "customers.yml").unlink()


def test_a_failing_query_names_the_dashboard_and_the_panel(demo: Path) -> None:
    project = load_project(demo)
    dashboard = find_dashboard(project, "revenue")
    broken = dashboard.model_copy(update={"panels": {
        **dashboard.panels, "revenue_by_state": dashboard.panels["revenue_by_state"].model_copy(
            update={"query": "SELECT uf, sum(gross_revenu) AS revenue "
                             "FROM gold.revenue_by_state_month GROUP BY uf"})}})
    warehouse = Warehouse(project.warehouse_uri)
    mart = TableRef("gold", "revenue_by_state_month")
    before = warehouse.version(mart)

    with pytest.raises(AfluenteError) as raised:
        panel_data(project, broken, "revenue_by_state", filter_values(broken, {}))

    error = raised.value
    assert error.message.startswith("dashboard 'revenue', panel 'revenue_by_state': ")
    assert "gross_revenu" in error.message
    assert "gross_revenue" in error.render()  # the engine's "did you mean"
    assert str(error.location).endswith("revenue.yml:22:5")  # the panel's `query:`
    assert warehouse.version(mart) == before  # a dashboard only reads


def test_a_column_the_query_does_not_return_is_named_with_the_closest(demo: Path) -> None:
    project = load_project(demo)
    dashboard = find_dashboard(project, "revenue")
    wrong = dashboard.model_copy(update={"panels": {
        **dashboard.panels, "revenue_by_month": dashboard.panels["revenue_by_month"].model_copy(
            update={"y": ["revenues"]})}})

    with pytest.raises(DashboardError) as raised:
        panel_data(project, wrong, "revenue_by_month", filter_values(wrong, {}))

    assert raised.value.message == ("dashboard 'revenue', panel 'revenue_by_month': `y` names "
                                    "column 'revenues', which the query does not return")
    assert raised.value.hint == "did you mean `revenue`? the query returns: month, revenue, orders"
