"""The revenue dashboard's page in the system Chromium (driven by Playwright): its charts
draw from the API as the caller, a filter re-queries every panel, no console errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.server.conftest import Served, served  # noqa: F401  (the served demo)

PANELS = ("revenue_by_state", "revenue_by_month", "top_categories", "order_funnel")


def test_the_page_draws_every_panel_and_a_filter_requeries(
        browser: Any, served: Served, tmp_path: Path) -> None:  # noqa: F811
    token = served.tokens["analyst"]
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  extra_http_headers={"Authorization": f"Bearer {token}"})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{served.url}/ui/dashboards/revenue")
        page.wait_for_selector("#afl-updated:has-text('Atualizado')")
        for panel in PANELS:
            assert page.locator(f"#afl-chart-{panel} svg path").count() >= 2, panel
        assert page.locator("#afl-chart-revenue_by_state svg path").count() >= 27
        assert page.locator("#afl-chart-order_funnel_table tbody tr").count() == 5
        page.screenshot(path=str(tmp_path / "dashboard-revenue.png"))

        with page.expect_response(re.compile(r"/panels/order_funnel_table/data\?uf=SP")) \
                as answered:
            page.select_option("#afl-filter-uf", "SP")
        funnel = answered.value.json()
        page.wait_for_function(
            "n => document.querySelector('#afl-chart-order_funnel_table tbody td:nth-child(2)')"
            ".textContent.replace(/\\D/g, '') === String(n)", arg=funnel["rows"][0][2])
        created = page.locator("#afl-chart-order_funnel_table tbody tr").first
        assert created.locator("td").first.text_content() == "created"
        with served.client("analyst") as client:
            expected = client.get("/api/dashboards/revenue/panels/order_funnel_table/data",
                                  params={"uf": "SP", "since": ""}).json()
        assert funnel == expected
        assert errors == []
    finally:
        context.close()


REFRESHING = """\
title: Orders now
refresh: 5s
panels:
  orders:
    title: Orders
    chart: table
    query: SELECT count(*) AS orders FROM gold.fct_orders
"""


def test_the_page_queries_again_at_its_refresh_interval(
        browser: Any, served: Served) -> None:  # noqa: F811
    file = served.root / "dashboards" / "orders_now.yml"
    file.write_text(REFRESHING, encoding="utf-8")
    token = served.tokens["admin"]
    context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/panels/orders/data" in r.url
            else None)
    try:
        page.goto(f"{served.url}/ui/dashboards/orders_now")
        page.wait_for_selector("#afl-chart-orders tbody td")
        with page.expect_request(re.compile(r"/panels/orders/data"), timeout=60_000):
            pass  # the timer's query, with no click or reload
        assert len(asked) >= 2
        with served.client("admin") as client:
            rows = client.get("/api/dashboards/orders_now/panels/orders/data").json()["rows"]
        shown = page.locator("#afl-chart-orders tbody td").first.text_content() or ""
        assert shown.replace(".", "") == str(rows[0][0])  # pt-BR: 1.234
    finally:
        context.close()
        file.unlink()
