"""The dashboards' API and pages over the served demo: the revenue dashboard, its panels'
rows (equal to what `afluente dashboard export` embeds), filters, errors, the page and its
vendored scripts."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from tests.cli_inprocess import run_afluente
from tests.server.conftest import Served

from afluente.config import load_project
from afluente.dashboards import find_dashboard
from afluente.dashboards.export import ECHARTS, embedded_page
from afluente.dashboards.filters import filter_values
from afluente.dashboards.panel_data import panel_data
from afluente.governance.identity import Identity
from afluente.governance.reader import GovernedReader

PANELS = ["revenue_by_state", "revenue_by_month", "top_categories", "order_funnel",
          "order_funnel_table"]
#: sha256 of dist/echarts.min.js in the npm package echarts 5.5.1
ECHARTS_SHA256 = "e84270bd0cd5bdf60fefc26d00c2a391cb2e81f4d26a7a9ee16185a54773a3cf"


def api_panels(served: Served, who: str, query: str = "") -> dict[str, Any]:
    with served.client(who) as client:
        return {name: client.get(f"/api/dashboards/revenue/panels/{name}/data{query}").json()
                for name in PANELS}


def test_the_dashboards_are_listed_with_their_panels(served: Served) -> None:
    with served.client("analyst") as client:
        listed = client.get("/api/dashboards").json()
        found = client.get("/api/dashboards/revenue").json()

    assert [d["name"] for d in listed["dashboards"]] == ["revenue"]
    assert listed["dashboards"][0]["panels"] == PANELS
    assert [p["name"] for p in found["panels"]] == PANELS
    assert found["refresh_s"] == 300
    assert "query" not in found["panels"][0]
    uf = next(f for f in found["filters"] if f["name"] == "uf")
    assert "SP" in uf["choices"] and uf["value"] is None


def test_panel_rows_are_the_governed_query_of_the_caller(served: Served) -> None:
    project = load_project(served.root)
    dashboard = find_dashboard(project, "revenue")
    analyst = GovernedReader.for_identity(project, Identity("service:bi", "analyst"))
    values = filter_values(dashboard, {"uf": "SP"})

    answered = api_panels(served, "analyst", "?uf=SP")

    for name in PANELS:
        expected = panel_data(project, dashboard, name, values, analyst).as_json()
        assert answered[name] == expected, name
    assert {row[0] for row in answered["revenue_by_state"]["rows"]} == {"SP"}


def test_the_export_embeds_the_data_the_api_answers(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "revenue.html"

    done = run_afluente(["-p", str(served.root), "dashboard", "export", "revenue",
                         "--out", str(out), "--filter", "uf="])

    assert done.returncode == 0, done.stderr
    assert f"wrote {out} (5 panels" in done.stdout
    page = embedded_page(out.read_text(encoding="utf-8"))
    with served.client("admin") as client:  # an ADMIN, as the project's owner who exported
        spec = client.get("/api/dashboards/revenue").json()
    assert page["data"] == api_panels(served, "admin")
    assert {k: page[k] for k in spec} == spec
    assert page["mode"] == "static" and page["map_svg"].count("<path name=") == 27


def test_bad_filters_and_names_get_problems_with_hints(served: Served) -> None:
    with served.client("analyst") as client:
        bad_date = client.get("/api/dashboards/revenue/panels/revenue_by_state/data"
                              "?since=ontem")
        unknown_filter = client.get("/api/dashboards/revenue/panels/revenue_by_state/data"
                                    "?state=SP")
        no_panel = client.get("/api/dashboards/revenue/panels/revenue_by_stat/data")
        no_dashboard = client.get("/api/dashboards/revenu")

    assert bad_date.status_code == 400
    assert bad_date.json()["detail"] == ("dashboard 'revenue', filter 'since': 'ontem' is "
                                         "not a date")
    assert bad_date.json()["hint"] == "write it as YYYY-MM-DD"
    assert unknown_filter.status_code == 400
    assert unknown_filter.json()["detail"] == "dashboard 'revenue' has no filter 'state'"
    assert no_panel.status_code == 404
    assert no_panel.json()["hint"].startswith("did you mean `revenue_by_state`?")
    assert no_dashboard.status_code == 404
    assert no_dashboard.json()["hint"].startswith("did you mean `revenue`?")


def test_the_pages_and_their_vendored_scripts(served: Served) -> None:
    with served.client("analyst") as client:
        listing = client.get("/ui/dashboards")
        page = client.get("/ui/dashboards/revenue")
        echarts = client.get("/ui/static/vendor/echarts.min.js")

    assert listing.status_code == 200 and 'href="/ui/dashboards/revenue"' in listing.text
    assert page.status_code == 200
    assert '<script src="/ui/static/vendor/echarts.min.js" defer></script>' in page.text
    found = re.search(r"window.AFLUENTE_DASHBOARD = (.*);</script>", page.text)
    assert found is not None and '"mode": "live"' in found.group(1)
    assert '"api": "/api/dashboards/revenue"' in found.group(1)
    assert hashlib.sha256(echarts.content).hexdigest() == ECHARTS_SHA256
    assert hashlib.sha256(ECHARTS.read_bytes()).hexdigest() == ECHARTS_SHA256
