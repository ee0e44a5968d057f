"""Quality results, column lineage, the five pillars and incidents, schedules and sensors,
and the audit log (ADMIN)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from afluente.errors import AfluenteError
from afluente.server.auth import Caller
from afluente.server.context import ServerContext, authenticated, server_context
from afluente.server.problems import NotFound

router = APIRouter(prefix="/api", dependencies=[Depends(authenticated)])


@router.get("/quality", tags=["quality"])
def quality(caller: Caller = Depends(authenticated),
            context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """Each rule's latest result (as `afluente quality`; failing samples only for a caller
    who may read them), the rules not evaluated since defined, and the history."""
    from afluente.governance.scan import governed_samples
    from afluente.quality.latest import current_results, defined_expectations

    history = governed_samples(context.reader(caller), context.store.quality_history())
    shown, pending = current_results(history, defined_expectations(context.graph()))
    return {"results": shown, "failing": sum(not r["passed"] for r in shown),
            "not_evaluated": pending, "history": history}


@router.get("/lineage/{target}", tags=["lineage"])
def lineage(target: str, direction: Literal["upstream", "downstream"] = "upstream",
            depth: int | None = Query(None, ge=1),
            context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """Column (`layer.table.column`) or table lineage, as `afluente lineage --format json`."""
    from afluente.lineage.export import render
    from afluente.lineage.model import ColumnKey
    from afluente.lineage.walk import parse_target, walk_columns, walk_tables

    found = context.lineage()
    try:
        dataset, column = parse_target(found, target)
    except AfluenteError as error:
        raise NotFound(error.message, hint=error.hint) from None
    hops = (walk_columns(found, ColumnKey(dataset, column), direction, depth) if column
            else walk_tables(found, dataset, direction, depth))
    return {"target": target, "direction": direction,
            "hops": json.loads(render(hops, "json", direction)),
            "warnings": [w for w in found.warnings() if w.split(" ", 1)[0] == dataset]}


@router.get("/observability/tables", tags=["health"])
def table_health(select: str | None = None,
                 context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """The five pillars per table (as `afluente health`), open incidents included."""
    from afluente.observability.health import project_health

    return [t.as_json() for t in project_health(context.project, select)]


@router.get("/incidents", tags=["health"])
def incidents(status: Literal["open", "resolved"] | None = None, model: str | None = None,
              context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """Incidents, oldest first (`afluente.incidents`)."""
    return [asdict(i) for i in context.store.incidents(status, model)]


@router.get("/schedules", tags=["schedules"])
def schedules(context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """Each schedule and sensor: trigger, selection, next due time and last run."""
    from afluente.scheduler.status import trigger_rows

    return trigger_rows(context.project)


@router.get("/audit", tags=["audit"])
def audit(since: datetime | None = None, action: str | None = None,
          principal: str | None = None, limit: int = Query(50, ge=1, le=10_000),
          caller: Caller = Depends(authenticated),
          context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """The audit log's entries, newest last (ADMIN only, as `afluente audit`)."""
    from afluente.governance.audit import query
    from afluente.governance.reader import require_admin

    require_admin(context.reader(caller), "read the audit log")
    return [e.__dict__ for e in query(context.project, since, action, principal)[-limit:]]
