"""Dashboards (docs/dashboards.md): `GET /api/dashboards`, `/api/dashboards/{name}` (panels,
filters with their choices) and `/api/dashboards/{name}/panels/{panel}/data` (the panel's
rows; filters as query parameters named after them); the pages are in
`afluente.server.ui.routes_dashboards_pages`. Every query runs as the caller, through the
governed reader."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from afluente.dashboards import Dashboard, find_dashboard, load_dashboards
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


def find(context: ServerContext, name: str) -> Dashboard:
    try:
        return find_dashboard(context.project, name, context.graph())
    except DashboardNotFound as missing:
        raise NotFound(missing.message, hint=missing.hint) from None


def given_filters(request: Request) -> dict[str, str | None]:
    return {k: v for k, v in request.query_params.items()}


def page_data(context: ServerContext, caller: Caller, dashboard: Dashboard,
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
    return JsonBody(page_data(context, caller, find(context, name), given_filters(request)))


@router.get("/{name}/panels/{panel}/data", response_class=JsonBody)
def panel(name: str, panel: str, request: Request, caller: Caller = Depends(authenticated),
          context: ServerContext = Depends(server_context)) -> JsonBody:
    """The rows a panel draws (`columns`, `rows`, `truncated`), filters given as query
    parameters (`?uf=SP&since=2024-01-01`; empty: all)."""
    found = find(context, name)
    values = filter_values(found, given_filters(request))
    try:
        data = panel_data(context.project, found, panel, values, context.reader(caller))
    except PanelNotFound as missing:
        raise NotFound(missing.message, hint=missing.hint) from None
    return JsonBody(data.as_json())
