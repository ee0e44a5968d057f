"""A table's page: its docs, schema, Delta history with time travel and a row browser
(pages through the governed reader, so masks apply), quality results over time, the
quarantine with reasons, the five pillars and a column's lineage up and down as a graph."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from afluente.errors import AfluenteError
from afluente.model import TableRef
from afluente.server import routes_meta, routes_observe
from afluente.server.auth import Caller
from afluente.server.context import ServerContext, server_context
from afluente.server.limits import INT64_MAX
from afluente.server.lookup import resolve_table
from afluente.server.problems import ApiError
from afluente.server.rows_page import PageRequest, read_page
from afluente.server.ui.layout import NODE_H, NODE_W, Layout, layered
from afluente.server.ui.pages import page_caller, render

router = APIRouter(prefix="/ui/tables", include_in_schema=False)
PAGE_ROWS = 50


def _version(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    if not text.strip().isdigit():
        raise ApiError(f"version {text!r} is not a whole number",
                       hint="pick a version from the table's Delta history")
    return int(text)


def _rows(context: ServerContext, caller: Caller, ref: TableRef, version: str | None,
          as_of: str | None, offset: int) -> dict[str, Any]:
    pinned, when = _version(version), (as_of or "").strip() or None
    if pinned is not None and when is not None:
        raise ApiError("give either a version or a time, not both",
                       hint="a version number pins the table exactly; a time picks the "
                            "version current then")
    return read_page(context.project, context.reader(caller), ref,
                     PageRequest(pinned, when, offset, PAGE_ROWS))


@router.get("/{table}/rows", response_class=HTMLResponse)
def rows_fragment(request: Request, table: str, version: str | None = None,
                  as_of: str | None = None, offset: int = Query(0, ge=0, le=INT64_MAX),
                  caller: Caller = Depends(page_caller),
                  context: ServerContext = Depends(server_context)) -> HTMLResponse:
    """The row browser alone (htmx swaps it in when paging or travelling in time)."""
    ref = resolve_table(context.graph(), table)
    page = _rows(context, caller, ref, version, as_of, offset)
    return render(request, "rows.html", {"table": str(ref), "page": page}, caller=caller)


@router.get("/{table}", response_class=HTMLResponse)
def table_page(request: Request, table: str, version: str | None = None,
               as_of: str | None = None, offset: int = Query(0, ge=0, le=INT64_MAX),
               column: str | None = None, caller: Caller = Depends(page_caller),
               context: ServerContext = Depends(server_context)) -> HTMLResponse:
    graph = context.graph()
    ref = resolve_table(graph, table)
    model = routes_meta.model_json(graph, graph[ref])
    values: dict[str, Any] = {"model": model, "table": str(ref), "version": version or "",
                              "as_of": as_of or "", "built": False}
    if graph[ref].materialized and _built(context, ref):
        values.update(_stored(context, caller, ref, version, as_of, offset))
    values.update(_quality(context, caller, str(ref)))
    values["health"] = next(iter(routes_observe.table_health(str(ref), context)), None)
    columns = [c["name"] for c in values.get("schema", [])] or list(model["columns"])
    chosen = column if column in columns else (columns[0] if columns else None)
    values.update({"columns": columns, "column": chosen,
                   "lineage": _lineage(context, f"{ref}.{chosen}") if chosen else None,
                   "node_w": NODE_W, "node_h": NODE_H})
    return render(request, "table.html", values, caller=caller)


def _built(context: ServerContext, ref: TableRef) -> bool:
    from afluente.storage import Warehouse

    return Warehouse(context.project.warehouse_uri).exists(ref)


def _stored(context: ServerContext, caller: Caller, ref: TableRef, version: str | None,
            as_of: str | None, offset: int) -> dict[str, Any]:
    from afluente.runtime.quarantine_names import quarantine_ref
    from afluente.server.routes_tables import table_history, table_schema

    schema = table_schema(str(ref), None, context)
    beside = quarantine_ref(ref)
    quarantine = (read_page(context.project, context.reader(caller), beside,
                            PageRequest(None, None, 0, PAGE_ROWS))
                  if _built(context, beside) else None)
    return {"built": True, "schema": schema["columns"],
            "history": table_history(str(ref), 100, context),
            "page": _rows(context, caller, ref, version, as_of, offset),
            "quarantine": quarantine}


def _quality(context: ServerContext, caller: Caller, table: str) -> dict[str, Any]:
    found = routes_observe.quality(caller, context)
    history = [r for r in found["history"] if r["model"] == table]
    rules = sorted({r["rule"] for r in history})
    runs = list(dict.fromkeys(r["run_id"] for r in history))[-12:]
    cells = {(r["rule"], r["run_id"]): r for r in history}
    return {"quality": [r for r in found["results"] if r["model"] == table],
            "quality_rules": rules, "quality_runs": runs, "quality_cells": cells,
            "pending": [p for p in found["not_evaluated"] if p["model"] == table]}


def _lineage(context: ServerContext, target: str) -> Layout | None:
    """Both directions of `target`'s lineage in one layered graph (layers left to right)."""
    nodes: list[str] = []
    edges: list[tuple[str, str]] = []
    for direction in ("upstream", "downstream"):
        try:
            hops = routes_observe.lineage(target, direction, None, context)["hops"]
        except AfluenteError:
            return None
        nodes += [n for n in hops["nodes"] if n not in nodes]
        edges += [(edge["from"], edge["to"]) for edge in hops["edges"]]
    layers = list(dict.fromkeys(r.layer for r in context.graph().order))
    return layered(nodes, edges, _layer_of, ["source", *layers])


def _layer_of(node: str) -> str:
    return "source" if node.startswith("source:") else node.split(".", 1)[0]
