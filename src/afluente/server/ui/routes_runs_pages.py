"""Runs (list and one run's timeline, events, retry and cancel), schedules and sensors with
their next fire times, and health with the open incidents."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from afluente.server import routes_observe, routes_runs
from afluente.server.auth import Caller
from afluente.server.context import ServerContext, server_context
from afluente.server.ui.gantt import timeline
from afluente.server.ui.pages import page_caller, render

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, caller: Caller = Depends(page_caller),
              context: ServerContext = Depends(server_context)) -> HTMLResponse:
    return render(request, "runs.html", {"runs": routes_runs.runs(50, context)},
                  caller=caller)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, caller: Caller = Depends(page_caller),
             context: ServerContext = Depends(server_context)) -> HTMLResponse:
    run = routes_runs.run(run_id, context)
    events = routes_runs.run_events(run["run_id"], context)
    started_here = any(j.run_id == run["run_id"] for j in context.jobs.all())
    return render(request, "run.html", {
        "run": run, "events": events, "timeline": timeline(run["models"], run["started_at"]),
        "last_event": events[-1]["id"] if events else 0, "cancellable": started_here},
        caller=caller)


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, caller: Caller = Depends(page_caller),
                   context: ServerContext = Depends(server_context)) -> HTMLResponse:
    return render(request, "schedules.html",
                  {"triggers": routes_observe.schedules(context)}, caller=caller)


@router.get("/health", response_class=HTMLResponse)
def health_page(request: Request, caller: Caller = Depends(page_caller),
                context: ServerContext = Depends(server_context)) -> HTMLResponse:
    return render(request, "health.html", {
        "tables": routes_observe.table_health(None, context),
        "incidents": routes_observe.incidents("open", None, context)}, caller=caller)
