"""Runs, their model runs and events, a live stream of events (server-sent events), and
starting a run or a backfill (`run_jobs`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from afluente.errors import StateError
from afluente.server.auth import Caller
from afluente.server.context import ServerContext, authenticated, server_context
from afluente.server.limits import INT64_MAX
from afluente.server.problems import ApiError, Conflict, NotFound
from afluente.state import Event
from afluente.state.records import RunRecord

router = APIRouter(prefix="/api", dependencies=[Depends(authenticated)], tags=["runs"])
#: How often the stream looks for new events, and sends a comment to keep proxies open.
POLL_S = 0.25
KEEPALIVE_S = 15.0


def run_json(run: RunRecord, models: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "run_id": run.run_id, "status": run.status, "selector": run.selector,
        "started_at": run.started_at, "finished_at": run.finished_at, "error": run.error,
        "trigger": run.args.get("trigger"), "models_run": len(run.models)}
    if models:
        body["models"] = [
            {"model": m.model, "status": m.status, "started_at": m.started_at,
             "finished_at": m.finished_at, "duration_s": m.duration_s, "rows": m.rows_written,
             "version": m.version_written, "versions_read": m.versions_read,
             "attempts": m.attempts, "error": m.error} for m in run.models]
    return body


def event_json(event_id: int | None, event: Event) -> dict[str, Any]:
    return {"id": event_id, "type": event.type, "run_id": event.run_id, "model": event.model,
            "level": event.level, "ts": event.ts.isoformat() if event.ts else None,
            "payload": event.payload}


@router.get("/runs")
def runs(limit: int = Query(20, ge=1, le=500),
         context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """Recent runs, newest first (as `afluente runs`)."""
    return [run_json(r) for r in context.store.list_runs(limit)]


def _run(context: ServerContext, run_id: str) -> RunRecord:
    try:
        return context.store.get_run(run_id)
    except StateError as error:
        if error.message.startswith("no run with id"):
            raise NotFound(f"no run with id {run_id!r}", hint=error.hint) from None
        raise ApiError(error.message, hint=error.hint) from None


@router.get("/runs/{run_id}")
def run(run_id: str, context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """One run (by id or a unique prefix) with its model runs."""
    return run_json(_run(context, run_id), models=True)


@router.get("/runs/{run_id}/events")
def run_events(run_id: str, context: ServerContext = Depends(server_context)
               ) -> list[dict[str, Any]]:
    """A run's events, oldest first."""
    found = _run(context, run_id)
    return [event_json(i, e) for i, e in context.store.events_after(0, found.run_id, 100_000)]


@router.get("/events")
def events(after: int = Query(0, ge=0, le=INT64_MAX, description="Events with an id above this."),
           run_id: str | None = None, limit: int = Query(200, ge=1, le=5000),
           context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """Events oldest first from an id on (of one run, or of all)."""
    return [event_json(i, e) for i, e in context.store.events_after(after, run_id, limit)]


@router.get("/events/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream(request: Request, run_id: str | None = None,
                 after: int | None = Query(None, ge=0, le=INT64_MAX,
                                           description="Start after this event id (default: "
                                           "a run's first, or now)."),
                 last_event_id: str | None = Header(None),
                 context: ServerContext = Depends(server_context)) -> StreamingResponse:
    """Server-sent events as they are recorded, whoever runs (CLI, scheduler, this API);
    with `run_id` the stream starts at the run's first event and ends after `run_finished`."""
    if after is None and last_event_id and last_event_id.isdigit():
        after = int(last_event_id)
    if after is None:
        after = 0 if run_id else await asyncio.to_thread(context.store.last_event_id)
    return StreamingResponse(_events(request, context, run_id, after),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _events(request: Request, context: ServerContext, run_id: str | None, cursor: int
                  ) -> AsyncIterator[str]:
    quiet = 0.0
    while not await request.is_disconnected():
        batch = await asyncio.to_thread(context.store.events_after, cursor, run_id, 200)
        for event_id, event in batch:
            cursor = event_id
            data = json.dumps(event_json(event_id, event), default=str, ensure_ascii=False)
            yield f"id: {event_id}\nevent: {event.type}\ndata: {data}\n\n"
            if run_id is not None and event.type == "run_finished":
                return
        quiet = 0.0 if batch else quiet + POLL_S
        if quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": keep-alive\n\n"
        if not batch:
            await asyncio.sleep(POLL_S)


@router.post("/runs", status_code=202)
def start_run(select: str | None = Body(None, embed=True, description="As `run --select`."),
              full_refresh: bool = Body(False, embed=True),
              caller: Caller = Depends(authenticated),
              context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """Start `afluente run` as the caller; answers once the run is recorded (its id), or
    with the CLI's error. 409 when a live run holds a table it writes."""
    job = context.jobs.start_run(caller, context.reader(caller), context.store, select,
                                 full_refresh)
    return job.as_json()


@router.post("/runs/{run_id}/retry", status_code=202)
def retry_run(run_id: str, caller: Caller = Depends(authenticated),
              context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """Start `afluente retry RUN_ID` as the caller: what the run left failed, skipped or
    never started. `{"status": "nothing_to_retry"}` when every model succeeded."""
    found = _run(context, run_id)
    job = context.jobs.start_retry(caller, context.reader(caller), context.store,
                                   found.run_id)
    if job is None:
        return {"retry_of": found.run_id, "status": "nothing_to_retry", "job_id": None,
                "run_id": None}
    return job.as_json()


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: str, caller: Caller = Depends(authenticated),
               context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """Stop a run this server started (its process gets SIGTERM; the run is recorded as
    failed). 409 for a run started elsewhere or already finished."""
    found = _run(context, run_id)
    if found.status != "running":
        raise Conflict(f"run {found.run_id} is not running (it ended {found.status})",
                       hint=f"retry what it left undone with POST /api/runs/{found.run_id}"
                            "/retry")
    job = context.jobs.cancel(context.store, found.run_id, caller.name)
    return {**job.as_json(), "cancelled": True}


@router.post("/backfills", status_code=202)
def start_backfill(select: str = Body(..., embed=True), start: str = Body(..., embed=True),
                   end: str = Body(..., embed=True),
                   caller: Caller = Depends(authenticated),
                   context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """Start `afluente backfill SELECT --start --end` as the caller."""
    job = context.jobs.start_backfill(caller, context.reader(caller), context.store, select,
                                      start, end)
    return job.as_json()


@router.get("/jobs")
def jobs(context: ServerContext = Depends(server_context)) -> list[dict[str, Any]]:
    """The runs and backfills this server started, with their exit and CLI output."""
    return [job.as_json() for job in context.jobs.all()]


@router.get("/jobs/{job_id}")
def job(job_id: str, wait: float = Query(0, ge=0, le=300, description="Seconds to wait "
                                          "for the job to finish before answering."),
        context: ServerContext = Depends(server_context)) -> dict[str, Any]:
    """One job; with `wait`, answers as soon as it finishes (or when `wait` runs out)."""
    found = context.jobs.get(job_id)
    found.done.wait(wait)
    return found.as_json()
