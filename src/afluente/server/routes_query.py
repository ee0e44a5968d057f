"""`POST /api/query`: `afluente query`'s read-only path (writes, COPY, ATTACH and files
outside the warehouse are refused by the engine) as the caller, rewritten by the governed
reader, limited per caller (`--query-rate`)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Body, Depends

from afluente.server.auth import Caller
from afluente.server.context import ServerContext, authenticated, server_context
from afluente.server.json_body import JsonBody

router = APIRouter(prefix="/api", dependencies=[Depends(authenticated)], tags=["query"])
MAX_ROWS = 10_000


_QUERY_START = re.compile(r"^\s*(select|with|from)\b", re.IGNORECASE)


def capped(sql: str, rows: int) -> str:
    """A SELECT wrapped in a LIMIT, so the engine stops after `rows` (`SHOW`, `DESCRIBE`
    and the like are small and left as they are)."""
    text = sql.strip().rstrip(";").strip()
    if not _QUERY_START.match(text):
        return sql
    return f"SELECT * FROM (\n{text}\n) AS afluente_query LIMIT {int(rows)}"


@router.post("/query", response_class=JsonBody)
def query(sql: str = Body(..., embed=True, min_length=1,
                          description="One read-only SELECT over layer.table and afluente.*"),
          max_rows: int = Body(1000, embed=True, ge=1, le=MAX_ROWS),
          caller: Caller = Depends(authenticated),
          context: ServerContext = Depends(server_context)) -> JsonBody:
    """Run read-only SQL; answers `columns`, `rows` (at most `max_rows`) and `truncated`."""
    from afluente.runtime import query_rows

    context.query_limit.take(caller.name)
    result = query_rows(context.project, capped(sql, max_rows + 1), context.reader(caller))
    rows = result.records()
    return JsonBody({"columns": list(result.columns), "rows": rows[:max_rows],
                     "truncated": len(rows) > max_rows})
