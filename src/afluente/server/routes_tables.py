"""Tables: schema with column docs, Delta history, rows at a version or time (paged), and a
model's quarantined rows with their reasons. Rows come through the governed reader."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from afluente.model import Graph, TableRef
from afluente.server.auth import Caller
from afluente.server.context import ServerContext, authenticated, server_context
from afluente.server.json_body import JsonBody
from afluente.server.limits import INT64_MAX
from afluente.server.lookup import resolve_table
from afluente.server.problems import ApiError, NotFound
from afluente.server.rows_page import PageRequest, decode_cursor, open_version, read_page

router = APIRouter(prefix="/api/tables", dependencies=[Depends(authenticated)],
                   tags=["tables"])
MAX_PAGE = 1000


def _stored(graph: Graph, table: str) -> TableRef:
    ref = resolve_table(graph, table)
    if not graph[ref].materialized:
        raise ApiError(f"{ref} is a view: it stores no rows or versions",
                       hint=f"read it with POST /api/query {{\"sql\": \"select * from {ref}\"}}")
    return ref


@router.get("/{table}/schema")
def table_schema(table: str, version: int | None = Query(None, ge=0, le=INT64_MAX),
                 context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """Columns (name, Arrow type, nullable) with their docs and tags from the model."""
    graph = context.graph()
    ref = _stored(graph, table)
    import pyarrow as pa

    delta = open_version(context.project, ref, version, None)
    schema = pa.schema(delta.schema().to_arrow())
    docs = graph[ref].config.columns
    return {"table": str(ref), "version": delta.version(), "columns": [
        {"name": f.name, "type": str(f.type), "nullable": f.nullable,
         "description": docs[f.name].description if f.name in docs else None,
         "tags": list(docs[f.name].tags) if f.name in docs else []} for f in schema]}


@router.get("/{table}/history")
def table_history(table: str, limit: int | None = Query(None, ge=1),
                  context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """Delta versions newest first: time, operation, rows, run id, model fingerprint."""
    from afluente.storage import Warehouse

    ref = _stored(context.graph(), table)
    warehouse = Warehouse(context.project.warehouse_uri)
    if not warehouse.exists(ref):
        raise NotFound(f"table `{ref}` has not been built yet",
                       hint=f"run `afluente run --select +{ref}` (or POST /api/runs)")
    return [{"version": c.version, "timestamp": c.timestamp, "operation": c.operation,
             "rows": c.rows_added, "run_id": c.run_id, "fingerprint": c.fingerprint}
            for c in warehouse.history(ref, limit)]


@router.get("/{table}/rows", response_class=JsonBody)
def table_rows(
    table: str,
    version: int | None = Query(None, ge=0, le=INT64_MAX,
                                description="A Delta version (default: latest)."),
    as_of: str | None = Query(None, description="The table as of this ISO time."),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=INT64_MAX),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page."),
    caller: Caller = Depends(authenticated),
    context: ServerContext = Depends(server_context),
) -> JsonBody:
    """One page of rows as the caller may see them (masks, hidden columns, row filters)."""
    ref = _stored(context.graph(), table)
    if cursor is not None:
        version, offset = decode_cursor(cursor)
        as_of = None
    if version is not None and as_of is not None:
        raise ApiError("give either version or as_of, not both",
                       hint="a version number pins the table exactly; as_of picks the "
                            "version current at that time")
    page = read_page(context.project, context.reader(caller), ref,
                     PageRequest(version, as_of, offset, limit))
    return JsonBody(page)


@router.get("/{table}/quarantine", response_class=JsonBody)
def table_quarantine(table: str, limit: int = Query(100, ge=1, le=MAX_PAGE),
                     offset: int = Query(0, ge=0, le=INT64_MAX),
                     caller: Caller = Depends(authenticated),
                     context: ServerContext = Depends(server_context)) -> JsonBody:
    """The model's quarantined rows with the rules they failed (governed as the model)."""
    from afluente.runtime.quarantine_names import quarantine_ref
    from afluente.storage import Warehouse

    ref = _stored(context.graph(), table)
    beside = quarantine_ref(ref)
    if not Warehouse(context.project.warehouse_uri).exists(beside):
        return JsonBody({"table": str(beside), "version": None, "offset": offset,
                         "limit": limit, "columns": [], "rows": [], "next_cursor": None})
    return JsonBody(read_page(context.project, context.reader(caller), beside,
                              PageRequest(None, None, offset, limit)))
