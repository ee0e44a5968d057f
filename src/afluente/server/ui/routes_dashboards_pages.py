"""The dashboards' pages (docs/dashboards.md): `/ui/dashboards`, the list, and
`/ui/dashboards/{name}`, drawn in the browser by `static/dashboard.js` from the API
(`afluente.server.routes_dashboards`) as the page's caller."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from afluente.dashboards import load_dashboards
from afluente.dashboards.page_data import dashboard_summary
from afluente.server.auth import Caller
from afluente.server.context import ServerContext, server_context
from afluente.server.routes_dashboards import find, given_filters, page_data
from afluente.server.ui.pages import base_of, page_caller, render

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/dashboards", response_class=HTMLResponse)
def dashboards_page(request: Request, caller: Caller = Depends(page_caller),
                    context: ServerContext = Depends(server_context)) -> HTMLResponse:
    found = [dashboard_summary(d) for d in load_dashboards(context.project, context.graph())]
    return render(request, "dashboards.html", {"dashboards": found}, caller=caller)


@router.get("/dashboards/{name}", response_class=HTMLResponse)
def dashboard_page(name: str, request: Request, caller: Caller = Depends(page_caller),
                   context: ServerContext = Depends(server_context)) -> HTMLResponse:
    """Panels load from the API, a filter re-queries, `refresh` re-queries on a timer."""
    found = find(context, name)
    base = base_of(request)
    page = {**page_data(context, caller, found, given_filters(request)), "mode": "live",
            "api": f"{base}/api/dashboards/{name}",
            "map_url": f"{base}/ui/static/vendor/brazil-states.svg"}
    text = json.dumps(page, ensure_ascii=False).replace("</", "<\\/")
    return render(request, "dashboard.html", {"dashboard": page, "page_json": text},
                  caller=caller)
