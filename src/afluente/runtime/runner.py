"""Run (part of) a project: load → select → observe → plan → execute → record."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from afluente.config import Project
from afluente.connectors import validate_sources
from afluente.errors import AfluenteError
from afluente.model import Graph, load_graph, select
from afluente.runtime.incremental_read import observe_changes
from afluente.runtime.observe import observe
from afluente.runtime.planner import Plan, make_plan
from afluente.runtime.reporter import Reporter, SilentReporter
from afluente.runtime.results import RunResult, RunStatus
from afluente.storage import Warehouse


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and readable: `20261123T201502-a1b2c3`."""
    moment = now or datetime.now(UTC)
    return f"{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Planned:
    graph: Graph
    plan: Plan
    warehouse: Warehouse


def plan_project(
    project: Project, selector: str | None = None, full_refresh: bool = False
) -> Planned:
    validate_sources(project)
    graph = load_graph(project)
    chosen = select(graph, selector)
    warehouse = Warehouse(project.warehouse_uri)
    seen = observe(project, graph, chosen, warehouse)
    changes = observe_changes(graph, chosen, seen, warehouse)
    return Planned(graph, make_plan(graph, chosen, seen, full_refresh, changes), warehouse)


def run_project(
    project: Project,
    selector: str | None = None,
    *,
    full_refresh: bool = False,
    reporter: Reporter | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Build the selected tables; failures are recorded, never raised (see the result)."""
    from afluente.runtime.executor import Executor
    from afluente.state import Event, StateStore

    reporter = reporter or SilentReporter()
    planned = plan_project(project, selector, full_refresh)
    # Optional: OpenLineage events, when `openlineage:` in afluente.yml names a transport.
    from afluente.runtime.openlineage import with_openlineage

    reporter = with_openlineage(project, planned.graph, reporter)
    started = datetime.now(UTC)
    resume = run_id is not None
    run_id = run_id or new_run_id(started)
    from afluente.engines import create_engine

    state = StateStore.open(project.state_url)
    engine = create_engine(
        project.config.engine.type,
        project.config.engine.threads,
        project.config.engine.memory_limit,
        project.config.vars,
    )
    args = {"full_refresh": full_refresh, "host": socket.gethostname(), "pid": os.getpid()}
    try:
        state.start_run(run_id, project.config.name, selector, args, resume=resume)
        state.emit(Event(type="run_started", run_id=run_id, payload={"selector": selector}))
        reporter.plan_ready(run_id, planned.plan)
        executor = Executor(
            project, planned.graph, planned.plan, engine, planned.warehouse, state, reporter,
            run_id, started,
        )
        models = executor.execute()
        # Optional step: sinks with `publish_after_run: true` publish the tables just rebuilt.
        from afluente.runtime.publish import publish_failures, publish_rebuilt

        published = publish_rebuilt(project, planned.graph, models, state, run_id)
        failures = [f"{m.ref}: {m.reason}" for m in models if m.status == "failed"]
        failures += publish_failures(published)
        status: RunStatus = "failed" if failures else "success"
        result = RunResult(run_id, status, started, datetime.now(UTC), models, published)
        error = "; ".join(failures) or None
        state.finish_run(run_id, status, error)
        state.emit(Event(type="run_finished", run_id=run_id, level="error" if error else "info",
                         payload={"status": status, "failed": len(result.failed)}))
    except BaseException as exc:
        state.finish_run(run_id, "failed", f"interrupted: {type(exc).__name__}: {exc}")
        raise
    finally:
        engine.close()
        state.close()
    reporter.run_finished(result)
    _observe(project, planned.graph, result)
    return result


def _observe(project: Project, graph: Graph, result: RunResult) -> None:
    """Observability after the run: metrics, the five pillars, incidents and alerts. A
    failure here is logged; it never changes the run's outcome."""
    from afluente.observability import observe_run

    try:
        observe_run(project, graph, result.run_id, result.models)
    except AfluenteError as error:
        logging.getLogger("afluente.observability").error(error.render())
