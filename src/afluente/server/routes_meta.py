"""`/health` (open), the browser session, who the caller is, the project, its models and
the graph (nodes by layer with kind, last status and freshness; edges upstream→downstream)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response

from afluente.model import Graph, Node
from afluente.server.auth import CSRF_COOKIE, SESSION_COOKIE, Caller
from afluente.server.context import ServerContext, authenticated, server_context
from afluente.server.lookup import resolve_table

open_routes = APIRouter()
router = APIRouter(prefix="/api", dependencies=[Depends(authenticated)])


@open_routes.get("/health", tags=["meta"])
def health() -> dict[str, str]:
    """Whether the server answers (no authentication)."""
    return {"status": "ok"}


@open_routes.post("/api/session", tags=["auth"])
def open_session(request: Request, response: Response,
                 token: str = Body(..., embed=True, description="A token from `afluente "
                                   "token create`."),
                 context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """A browser session from a token: an HttpOnly SameSite=Strict cookie, and the CSRF
    token unsafe requests must send in `X-CSRF-Token`."""
    caller = context.auth.verify(token)
    session_id, session = context.auth.open_session(caller)
    path = request.scope.get("root_path") or "/"
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict",
                        path=path, secure=secure)
    response.set_cookie(CSRF_COOKIE, session.csrf, samesite="strict", path=path, secure=secure)
    return {"principal": caller.name, "role": caller.identity.token_role, "csrf": session.csrf}


@router.delete("/session", tags=["auth"])
def close_session(request: Request, response: Response,
                  context: ServerContext = Depends(server_context)) -> dict[str, bool]:
    """End the browser session (a bearer caller has none: nothing happens)."""
    context.auth.close_session(request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return {"closed": True}


@router.get("/whoami", tags=["auth"])
def whoami(caller: Caller = Depends(authenticated),
           context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """The caller's principal, roles and whether they are an ADMIN (as `afluente whoami`)."""
    reader = context.reader(caller)
    principal = reader.principal
    return {"principal": caller.name, "roles": sorted(principal.roles) if principal else [],
            "admin": reader.unrestricted}


@router.get("/projects", tags=["project"])
def projects(context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """The project this server serves (one per server)."""
    project, graph = context.project, context.graph()
    layers: dict[str, int] = {}
    for ref in graph.order:
        layers[ref.layer] = layers.get(ref.layer, 0) + 1
    return [{"name": project.config.name, "engine": project.config.engine.type,
             "warehouse": project.warehouse_uri, "tables": len(graph), "layers": layers,
             "governed": project.config.governance is not None}]


def model_json(graph: Graph, node: Node) -> dict[str, Any]:
    config = node.config
    return {
        "table": str(node.ref), "layer": node.ref.layer, "name": node.ref.name,
        "kind": node.kind, "language": node.language, "materialized": node.materialized,
        "description": config.description, "owner": config.owner, "tags": list(config.tags),
        "upstream": [str(r) for r in node.upstream],
        "downstream": [str(r) for r in graph.downstream.get(node.ref, ())],
        "file": str(node.location),
        "columns": {name: {"description": doc.description, "tags": list(doc.tags),
                           "type": doc.type} for name, doc in config.columns.items()},
    }


@router.get("/models", tags=["models"])
def models(context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """Every model in dependency order."""
    graph = context.graph()
    return [model_json(graph, graph[ref]) for ref in graph.order]


@router.get("/models/{table}", tags=["models"])
def model(table: str, context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """One model: kind, docs, owner, tags, columns, upstream and downstream."""
    graph = context.graph()
    return model_json(graph, graph[resolve_table(graph, table)])


@router.get("/graph", tags=["models"])
def graph(context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """The pipeline graph: nodes (layer, kind, last status, freshness) and edges."""
    graph = context.graph()
    last = context.last_model_status()
    fresh = context.freshness()
    nodes = [{"id": str(ref), "layer": ref.layer, "name": ref.name, "kind": graph[ref].kind,
              "materialized": graph[ref].materialized, "status": last.get(str(ref)),
              "freshness": fresh.get(str(ref))} for ref in graph.order]
    edges = [{"from": str(up), "to": str(ref)} for ref in graph.order
             for up in graph[ref].upstream]
    layers = list(dict.fromkeys(ref.layer for ref in graph.order))
    return {"layers": layers, "nodes": nodes, "edges": edges}
