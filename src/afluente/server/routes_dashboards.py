"""Dashboards (docs/dashboards.md): `GET /api/dashboards`, `/api/dashboards/{name}` (panels,
filters with their choices) and `/api/dashboards/{name}/panels/{panel}/data` (the panel's
rows; filters as query parameters named after them), and the pages `/ui/dashboards` and
`/ui/dashboards/{name}`. Every query runs as the caller, through the governed reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from afluente.dashboards import Dashboard, find_dashboard, load_dashboards
from afluente.dashboards.export import BRAZIL_MAP, ECHARTS, SCRIPT, STYLE
from afluente.dashboards.filters import filter_values
from afluente.dashboards.load import DashboardNotFound
from afluente.dashboards.page_data import dashboard_json, dashboard_summary
from afluente.dashboards.panel_data import PanelNotFound, filter_choices, panel_data
from afluente.server.auth import Caller
from afluente.server.context import ServerContext, authenticated, server_context
from afluente.server.json_body import JsonBody
from afluente.server.problems import NotFound

router = APIRouter(prefix="/api/dashboards", dependencies=[Depends(authenticated)],
                   tags=["dashboards"])
pages = APIRouter(prefix="/ui/dashboards", dependencies=[Depends(authenticated)],
                  tags=["ui"])
TEMPLATES = Path(__file__).parent / "ui" / "templates"
ASSETS = {"echarts.min.js": ECHARTS, "dashboard.js": SCRIPT, "dashboard.css": STYLE,
          "brazil-states.svg": BRAZIL_MAP}


def _dashboard(context: ServerContext, name: str) -> Dashboard:
    try:
        return find_dashboard(context.project, name, context.graph())
    except DashboardNotFound as missing:
        raise NotFound(missing.message, hint=missing.hint) from None


def _filters(request: Request) -> dict[str, str | None]:
    return {k: v for k, v in request.query_params.items()}


def _page(context: ServerContext, caller: Caller, dashboard: Dashboard,
          given: dict[str, str | None]) -> dict[str, Any]:
    reader = context.reader(caller)
    values = filter_values(dashboard, given)
    choices = {name: filter_choices(context.project, dashboard, name, reader)
               for name in dashboard.filters}
    return dashboard_json(dashboard, choices, values)


@router.get("", response_class=JsonBody)
def dashboards(context: ServerContext = Depends(server_context)) -> JsonBody:
    """The project's dashboards (name, title, panels, filters)."""
    found = load_dashboards(context.project, context.graph())
    return JsonBody({"dashboards": [dashboard_summary(d) for d in found]})


@router.get("/{name}", response_class=JsonBody)
def dashboard(name: str, request: Request, caller: Caller = Depends(authenticated),
              context: ServerContext = Depends(server_context)) -> JsonBody:
    """A dashboard: its panels (chart, axes, format) and filters, with each filter's
    choices as the caller may see them and its value (query parameters, else defaults)."""
    return JsonBody(_page(context, caller, _dashboard(context, name), _filters(request)))


@router.get("/{name}/panels/{panel}/data", response_class=JsonBody)
def panel(name: str, panel: str, request: Request, caller: Caller = Depends(authenticated),
          context: ServerContext = Depends(server_context)) -> JsonBody:
    """The rows a panel draws (`columns`, `rows`, `truncated`), filters given as query
    parameters (`?uf=SP&since=2024-01-01`; empty: all)."""
    found = _dashboard(context, name)
    values = filter_values(found, _filters(request))
    try:
        data = panel_data(context.project, found, panel, values, context.reader(caller))
    except PanelNotFound as missing:
        raise NotFound(missing.message, hint=missing.hint) from None
    return JsonBody(data.as_json())


@pages.get("", response_class=HTMLResponse)
def dashboards_page(request: Request,
                    context: ServerContext = Depends(server_context)) -> HTMLResponse:
    """The dashboards, each a link to its page."""
    found = [dashboard_summary(d) for d in load_dashboards(context.project, context.graph())]
    return _render(request, "dashboards.html", {"dashboards": found})


@pages.get("/assets/{asset}")
def asset(asset: str) -> FileResponse:
    """The scripts, style and map the dashboard pages load (vendored in the package)."""
    if asset not in ASSETS:
        raise NotFound(f"no dashboard asset {asset!r}", hint=f"assets: {', '.join(ASSETS)}")
    return FileResponse(ASSETS[asset], headers={"Cache-Control": "private, max-age=3600"})


@pages.get("/{name}", response_class=HTMLResponse)
def dashboard_page(name: str, request: Request, caller: Caller = Depends(authenticated),
                   context: ServerContext = Depends(server_context)) -> HTMLResponse:
    """A dashboard drawn in the browser: panels load from the API, filters re-query, the
    page refreshes at the dashboard's interval."""
    found = _dashboard(context, name)
    root = request.scope.get("root_path", "")
    page = {**_page(context, caller, found, _filters(request)), "mode": "live",
            "api": f"{root}/api/dashboards/{name}",
            "map_url": f"{root}/ui/dashboards/assets/brazil-states.svg"}
    text = json.dumps(page, ensure_ascii=False).replace("</", "<\\/")
    return _render(request, "dashboard.html", {"dashboard": page, "page_json": text,
                                               "assets": f"{root}/ui/dashboards/assets"})


PAGES = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def _render(request: Request, template: str, values: dict[str, Any]) -> HTMLResponse:
    """`template` with `values`, the request and `base` (the path a proxy serves under)."""
    base = str(request.scope.get("root_path") or "").rstrip("/")
    text = PAGES.get_template(template).render(base=base, request=request, **values)
    return HTMLResponse(text)
