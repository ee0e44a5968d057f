"""The pages as HTML, without a browser: the table page's row browser reads through the
governed reader (an analyst sees masked values, never the raw ones), and a page's error
is the API's message on a page."""

from __future__ import annotations

import html
from typing import Any

from tests.server.conftest import Served


def page(served: Served, path: str, who: str = "admin", **params: Any) -> str:
    with served.client(who) as client:
        answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return html.unescape(answer.text)


def test_the_row_browser_applies_the_callers_masks(served: Served) -> None:
    with served.client() as client:
        raw = client.get("/api/tables/gold.dim_customer/rows", params={"limit": 50}).json()
    with served.client("analyst") as client:
        seen = client.get("/api/tables/gold.dim_customer/rows", params={"limit": 50}).json()
    cpfs = [r["cpf"] for r in raw["rows"] if r["cpf"]]
    masked = [r["cpf"] for r in seen["rows"] if r["cpf"]]
    assert cpfs and masked
    admin_page = page(served, "/ui/tables/gold.dim_customer/rows")
    analyst_page = page(served, "/ui/tables/gold.dim_customer/rows", "analyst")
    assert all(c in admin_page for c in cpfs)
    assert not any(c in analyst_page for c in cpfs)
    assert all(m in analyst_page for m in masked)
    assert ">name<" in admin_page and ">name<" not in analyst_page  # hidden pii column


def test_a_page_for_an_unknown_table_names_the_closest(served: Served) -> None:
    with served.client(None) as client:  # type: ignore[arg-type]
        client.post("/api/session", json={"token": served.tokens["admin"]})
        answer = client.get("/ui/tables/gold.fct_ordrs")
        both = client.get("/ui/tables/gold.fct_orders", params={"version": "0",
                                                                "as_of": "2026-01-01"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    text = html.unescape(answer.text)
    assert "unknown table `gold.fct_ordrs`" in text and "`gold.fct_orders`" in text
    assert both.status_code == 400 and "give either a version or a time" in both.text
