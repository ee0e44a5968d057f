"""Run (part of) a project: load → select → observe → plan → execute → record."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from afluente.config import Project
from afluente.connectors import validate_sources
from afluente.engines.registry import validate_engine
from afluente.errors import AfluenteError
from afluente.model import Graph, TableRef, load_graph, select
from afluente.runtime.engine_fit import check_engine_fits
from afluente.runtime.incremental_read import observe_changes
from afluente.runtime.observe import observe
from afluente.runtime.planner import Plan, make_plan
from afluente.runtime.reporter import Reporter, SerialReporter, SilentReporter
from afluente.runtime.results import RunResult, RunStatus
from afluente.runtime.stream_sources import is_streaming
from afluente.storage import Warehouse

if TYPE_CHECKING:
    from afluente.state import StateStore
    from afluente.state.locks import LockHolder

log = logging.getLogger("afluente.run")


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
    graph, chosen = select_project(project, selector)
    return _plan(project, graph, chosen, full_refresh)


def select_project(project: Project, selector: str | None) -> tuple[Graph, set[TableRef]]:
    """Validate the sources, load the graph and resolve the selector (errors raise here)."""
    validate_sources(project)
    validate_engine(project)
    graph = load_graph(project)
    chosen = select(graph, selector)
    check_engine_fits(project, graph, chosen)
    return graph, chosen


def _plan(project: Project, graph: Graph, chosen: set[TableRef], full_refresh: bool,
          count_rows: bool = False, unchecked: frozenset[TableRef] = frozenset()) -> Planned:
    warehouse = Warehouse(project.warehouse_uri)
    seen = observe(project, graph, chosen, warehouse, count_rows, unchecked)
    changes = observe_changes(graph, chosen, seen, warehouse)
    return Planned(graph, make_plan(graph, chosen, seen, full_refresh, changes), warehouse)


def _streams(project: Project, graph: Graph) -> frozenset[TableRef]:
    """The bronze tables of the project's streaming sources."""
    return frozenset(
        ref for ref, node in graph.nodes.items()
        if node.source_name is not None and is_streaming(project.config.sources[node.source_name])
    )


def table_locks(graph: Graph, chosen: set[TableRef]) -> list[str]:
    """The locks a run of `chosen` takes: one per table it may write."""
    return sorted(f"table:{ref}" for ref in chosen if graph[ref].materialized)


def run_project(
    project: Project,
    selector: str | None = None,
    *,
    full_refresh: bool = False,
    reporter: Reporter | None = None,
    run_id: str | None = None,
    workers: int | None = None,
    retries: int | None = None,
    stop: threading.Event | None = None,
    trigger: dict[str, Any] | None = None,
    micro_batch: bool = False,
) -> RunResult:
    """Build the selected tables; failures are recorded, never raised (see the result).

    Before planning, the run takes the state-store lock of every table it may write, so a
    concurrent run of the same tables waits (up to `run: lock_timeout`) instead of planning
    against a table about to change. `stop` (set from another thread, e.g. on SIGTERM)
    starts no new model; running ones finish their commit. `trigger` is recorded in the
    run's args (which schedule, sensor or retry started it). A `micro_batch` (of `afluente
    stream`) skips what only a batch needs: the look at each streaming source before
    reading it, the row counts of up-to-date tables in the plan, and, after it, the column
    profiles and the volume and distribution detectors (whose baseline is a run's size,
    which for a micro-batch is only the pace of arrivals).
    """
    from afluente.runtime.executor import Executor
    from afluente.runtime.staging_cleanup import remove_orphaned_staging, remove_own_staging
    from afluente.state import Event, StateStore
    from afluente.state.locks import acquire_locks, reap_dead_runs, release_locks

    reporter = reporter or SilentReporter()
    graph, chosen = select_project(project, selector)
    if project.config.governance is not None:  # building takes MODIFY (docs/governance.md)
        from afluente.governance.reader import require_modify

        require_modify(project, chosen)
    # Optional: OpenLineage events, when `openlineage:` in afluente.yml names a transport.
    from afluente.runtime.openlineage import with_openlineage

    reporter = SerialReporter(with_openlineage(project, graph, reporter))
    settings = project.config.run
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    if retries is not None:
        settings = settings.model_copy(update={"retries": retries})
    started = datetime.now(UTC)
    resume = run_id is not None
    run_id = run_id or new_run_id(started)

    from afluente.runtime.model_engines import ModelEngines

    state = StateStore.open(project.state_url)
    args: dict[str, Any] = {"full_refresh": full_refresh, "host": socket.gethostname(),
                            "pid": os.getpid(), "workers": settings.workers}
    if trigger:
        args["trigger"] = trigger
    heartbeat = _Heartbeat(state, run_id)
    try:
        state.start_run(run_id, project.config.name, selector, args, resume=resume)
        heartbeat.start()
        for dead in reap_dead_runs(state, by=f"run {run_id}"):
            log.warning("run %s died without finishing (its process is gone): marked failed",
                        dead, extra={"run_id": run_id})
            state.emit(Event(type="dead_run_detected", run_id=run_id, level="warning",
                             payload={"dead_run": dead}))
        remove_orphaned_staging(state, Warehouse(project.warehouse_uri), run_id)

        def waiting(holder: LockHolder) -> None:
            log.warning("waiting for %s to release %s", holder.describe(), holder.name,
                        extra={"run_id": run_id})
            state.emit(Event(type="lock_wait", run_id=run_id, level="warning",
                             payload={"lock": holder.name, "holder": holder.holder}))

        acquire_locks(state, table_locks(graph, chosen), run_id, wait=settings.lock_timeout,
                      on_wait=waiting)
        planned = _plan(project, graph, chosen, full_refresh, count_rows=not micro_batch,
                        unchecked=_streams(project, graph) if micro_batch else frozenset())
        # a table created by this run keeps its personal columns out of its statistics
        from afluente.governance.personal_stats import PersonalColumns

        planned.warehouse.private_columns = PersonalColumns(graph, planned.warehouse)
        # encrypted columns: the key is checked here, before anything is written
        from afluente.runtime.encryption import run_cipher

        cipher = run_cipher(project, planned.warehouse)
        state.emit(Event(type="run_started", run_id=run_id, payload={"selector": selector}))
        reporter.plan_ready(run_id, planned.plan)
        executor = Executor(
            project, planned.graph, planned.plan, planned.warehouse, state, reporter,
            run_id, started, ModelEngines(project, cipher), settings, stop or threading.Event(),
        )
        models = executor.execute()
        from afluente.runtime.environments import record_built

        record_built(project, planned.graph, models)  # what `plan --env` compares with
        # Optional step: sinks with `publish_after_run: true` publish the tables just rebuilt.
        from afluente.runtime.publish import publish_failures, publish_rebuilt

        published = publish_rebuilt(project, planned.graph, models, state, run_id)
        failures = [f"{m.ref}: {m.reason}" for m in models if m.status == "failed"]
        failures += publish_failures(published)
        status: RunStatus = "failed" if failures else "success"
        error = "; ".join(failures) or None
        result = RunResult(run_id, status, started, datetime.now(UTC), models, published, error)
        state.finish_run(run_id, status, error)
        state.emit(Event(type="run_finished", run_id=run_id, level="error" if error else "info",
                         payload={"status": status, "failed": len(result.failed)}))
    except BaseException as exc:
        state.finish_run(run_id, "failed", f"interrupted: {type(exc).__name__}: {exc}")
        raise
    finally:
        heartbeat.stop()
        remove_own_staging(Warehouse(project.warehouse_uri), run_id)
        try:
            release_locks(state, run_id)
        finally:
            state.close()
    reporter.run_finished(result)
    _observe(project, planned.graph, result, micro_batch)
    return result


class _Heartbeat:
    """Beats for the run (its row and its locks) so runs on other hosts know it lives."""

    def __init__(self, state: StateStore, run_id: str, every_s: float = 15.0) -> None:
        self._state, self._run_id, self._every = state, run_id, every_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="afluente-heartbeat",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        from afluente.state.locks import beat

        while not self._stopped.wait(self._every):
            try:
                beat(self._state, self._run_id)
            except AfluenteError as error:  # a missed beat only matters after minutes
                log.warning("heartbeat failed: %s", error.message)


def _observe(project: Project, graph: Graph, result: RunResult, micro_batch: bool) -> None:
    """Observability after the run: metrics, the five pillars, incidents and alerts. A
    failure here is logged; it never changes the run's outcome."""
    from afluente.observability import observe_run

    try:
        observe_run(project, graph, result.run_id, result.models, micro_batch=micro_batch)
    except AfluenteError as error:
        logging.getLogger("afluente.observability").error(error.render())
