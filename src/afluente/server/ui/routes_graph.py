"""The pipeline graph page: layers left to right, each node coloured by its last status
with a freshness badge, drawn as SVG laid out on the server (`layout`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from afluente.server import routes_meta
from afluente.server.auth import Caller
from afluente.server.context import ServerContext, server_context
from afluente.server.ui.layout import NODE_H, NODE_W, layered
from afluente.server.ui.pages import base_of, page_caller, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def root(request: Request) -> RedirectResponse:
    """The UI is the server's front page."""
    return RedirectResponse(f"{base_of(request)}/ui/", status_code=307)


@router.get("/ui", response_class=HTMLResponse)
@router.get("/ui/", response_class=HTMLResponse)
def graph_page(request: Request, caller: Caller = Depends(page_caller),
               context: ServerContext = Depends(server_context)) -> HTMLResponse:
    shown = routes_meta.graph(context)
    nodes = {n["id"]: n for n in shown["nodes"]}
    layout = layered(list(nodes), [(e["from"], e["to"]) for e in shown["edges"]],
                     lambda n: str(nodes[n]["layer"]), shown["layers"])
    return render(request, "graph.html", {
        "layout": layout, "nodes": nodes, "node_w": NODE_W, "node_h": NODE_H,
        "status_of": _status, "fresh_of": _freshness}, caller=caller)


def _status(node: dict[str, Any]) -> str:
    if not node["materialized"]:
        return "view"
    last = node.get("status")
    return str(last["status"]) if last else "never"


def _freshness(node: dict[str, Any]) -> str | None:
    fresh = node.get("freshness")
    return str(fresh["status"]) if fresh and fresh.get("status") else None
