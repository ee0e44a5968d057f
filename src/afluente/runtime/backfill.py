"""`afluente backfill`: rebuild the partitions of time_range models over a date range.

One task per (model, partition), recorded in the state store before anything runs; models go
in dependency order (every partition of an upstream before its downstream), the partitions of
one model up to `workers` at a time, each in a thread with its own engine. A partition is one
Delta commit that replaces exactly that partition, so re-running it is idempotent, and a
backfill killed at any moment is resumed by redoing the partitions not recorded `success`.
While a model's partitions run, its table lock (`table:<layer.name>`) is held, so a run and a
backfill never write the same table at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Literal, Protocol

from afluente.config import Project
from afluente.errors import AfluenteError, EngineError, StateError
from afluente.model import Graph, TableRef, load_graph, select
from afluente.runtime.backfill_partition import ModelPhase, build_partition
from afluente.runtime.backfill_plan import (
    BackfillPlan,
    PartitionStage,
    RunStage,
    plan_backfill,
)
from afluente.runtime.backfill_range import Partition, parse_range
from afluente.runtime.partition_checks import check_partition_columns
from afluente.runtime.results import RunResult
from afluente.runtime.runner import new_run_id
from afluente.state.backfill_state import BackfillRecord, BackfillStore, PartitionRecord
from afluente.state.coltypes import utc_now
from afluente.state.locks import acquire_locks, release_locks
from afluente.storage import Warehouse

log = logging.getLogger("afluente.backfill")

Outcome = Literal["success", "failed", "skipped", "done"]  # done: succeeded before a resume


@dataclass(frozen=True)
class BackfillRequest:
    selector: str | None
    start: str
    end: str
    workers: int | None = None  # None: the project's `run: workers`
    resume: str | None = None  # a backfill id


@dataclass(frozen=True)
class PartitionResult:
    model: str
    partition: str
    status: Outcome
    rows: int | None = None
    version: int | None = None
    error: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class BackfillResult:
    backfill_id: str
    status: Literal["success", "failed", "interrupted"]
    resumed: bool
    partitions: tuple[PartitionResult, ...]
    runs: tuple[RunResult, ...] = ()

    def count(self, status: Outcome) -> int:
        return sum(1 for p in self.partitions if p.status == status)

    @property
    def rows(self) -> int:
        return sum(p.rows or 0 for p in self.partitions if p.status == "success")


class BackfillReporter(Protocol):
    def backfill_started(self, backfill_id: str, total: int, done: int, resumed: bool) -> None:
        ...

    def partition_started(self, model: str, partition: str) -> None:
        ...

    def partition_finished(self, result: PartitionResult) -> None:
        ...


class SilentBackfillReporter:
    def backfill_started(self, backfill_id: str, total: int, done: int, resumed: bool) -> None:
        return None

    def partition_started(self, model: str, partition: str) -> None:
        return None

    def partition_finished(self, result: PartitionResult) -> None:
        return None


def run_backfill(
    project: Project,
    request: BackfillRequest,
    *,
    reporter: BackfillReporter | None = None,
    stop: threading.Event | None = None,
) -> BackfillResult:
    """Run (or resume) a backfill; partition failures are in the result, never raised. Bad
    input (range, selector, time_column) raises before anything is recorded or written."""
    store = BackfillStore.open(project.state_url)
    try:
        record = store.get_backfill(request.resume) if request.resume else None
        selector = record.selector if record else request.selector
        start, end = (record.start, record.end) if record else (request.start, request.end)
        graph = load_graph(project)
        if project.config.governance is not None:  # refused before a backfill is recorded
            from afluente.governance.reader import require_modify

            require_modify(project, select(graph, selector))
        _check_keys(project)
        plan = plan_backfill(graph, selector, parse_range(start, end))
        check_partition_columns(project, graph, [s.node.ref for s in plan.partition_stages])
        if record is None:
            record = store.unfinished(project.config.name, selector, start, end)
        resumed = record is not None
        if record is None:
            record = _new_backfill(store, project, request, plan)
        backfill = Backfill(project, graph, plan, store, record.backfill_id,
                            request.workers or project.config.run.workers,
                            reporter or SilentBackfillReporter(), stop or threading.Event(),
                            resumed=resumed)
        return backfill.run(_known(store, record.backfill_id, plan))
    finally:
        store.close()


def _check_keys(project: Project) -> None:
    """With `governance.encryption`, open the keyring and check the master key before the
    backfill is recorded: a wrong or missing key stops it naming the key, nothing written."""
    from afluente.runtime.encryption import declared

    if declared(project):
        from afluente.governance.column_cipher import open_cipher

        cipher = open_cipher(project)
        assert cipher is not None
        cipher.ring.close()


def _new_backfill(
    store: BackfillStore, project: Project, request: BackfillRequest, plan: BackfillPlan
) -> BackfillRecord:
    record = BackfillRecord(
        backfill_id="bf-" + new_run_id(), project=project.config.name,
        selector=request.selector, start=request.start, end=request.end,
        workers=request.workers or project.config.run.workers, status="running",
        created_at=utc_now(),
    )
    store.create_backfill(record, plan.tasks)
    return record


def _known(store: BackfillStore, backfill_id: str, plan: BackfillPlan) -> dict[
    tuple[str, str], PartitionRecord
]:
    """The recorded partition tasks; they must be the plan's (the project may have changed
    since an interrupted backfill was started)."""
    known = {(p.model, p.partition): p for p in store.partitions(backfill_id)}
    if set(known) != set(plan.tasks):
        raise StateError(
            f"backfill `{backfill_id}` was started for other partitions than the project "
            "now has (a model or its partition_by changed)",
            hint="start a new backfill: give the selector and range again without --resume",
        )
    return known


@dataclass
class Backfill:
    project: Project
    graph: Graph
    plan: BackfillPlan
    store: BackfillStore
    backfill_id: str
    workers: int
    reporter: BackfillReporter
    stop: threading.Event
    results: list[PartitionResult] = field(default_factory=list)
    runs: list[RunResult] = field(default_factory=list)
    failed: set[TableRef] = field(default_factory=set)
    resumed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, known: dict[tuple[str, str], PartitionRecord]) -> BackfillResult:
        done = {key for key, p in known.items() if p.status == "success"}
        self.store.set_backfill_status(self.backfill_id, "running")
        self.reporter.backfill_started(self.backfill_id, len(known), len(done), self.resumed)
        try:
            for stage in self.plan.stages:
                if isinstance(stage, RunStage):
                    self._run_models(stage)
                else:
                    self._partitions(stage, {p for m, p in done if m == stage.node.name}, known)
        except BaseException as exc:
            self.stop.set()
            self.store.set_backfill_status(self.backfill_id, "interrupted",
                                           f"{type(exc).__name__}: {exc}")
            raise
        return self._finish()

    def _finish(self) -> BackfillResult:
        status: Literal["success", "failed", "interrupted"] = "success"
        errors = [f"{r.model} {r.partition}: {r.error}" for r in self.results
                  if r.status == "failed"]
        errors += [f"run {r.run_id} failed" for r in self.runs if r.status != "success"]
        if self.stop.is_set():
            status = "interrupted"
        elif errors or any(r.status == "skipped" for r in self.results):
            status = "failed"
        self.store.set_backfill_status(self.backfill_id, status, "; ".join(errors) or None)
        return BackfillResult(self.backfill_id, status, self.resumed, tuple(self.results),
                              tuple(self.runs))

    def _run_models(self, stage: RunStage) -> None:
        """Models that are not time_range: one normal run of them."""
        from afluente.runtime.runner import run_project

        if self.stop.is_set() or self._upstream_failed(stage.refs):
            return
        result = run_project(self.project, stage.selector)
        self.runs.append(result)
        self.failed |= {m.ref for m in result.models if m.status in ("failed", "skipped")}

    def _partitions(
        self, stage: PartitionStage, done: set[str],
        known: dict[tuple[str, str], PartitionRecord],
    ) -> None:
        node = stage.node
        todo = [p for p in stage.partitions if p.key not in done]
        self.results += [self._done(known[(node.name, p.key)]) for p in stage.partitions
                         if p.key in done]
        if self._upstream_failed([node.ref]) or self.stop.is_set():
            for partition in todo:
                self._skip(node.name, partition, "an upstream model failed or the backfill "
                           "was stopped")
            return
        lock = [f"table:{node.ref}"]
        acquire_locks(self.store, lock, self.backfill_id,
                      wait=self.project.config.run.lock_timeout)
        try:
            from afluente.governance.personal_stats import PersonalColumns

            warehouse = Warehouse(self.project.warehouse_uri)
            warehouse.private_columns = PersonalColumns(self.graph, warehouse)  # on creation
            from afluente.runtime.encryption import run_cipher

            run_cipher(self.project, warehouse)  # seals what the partitions write
            phase = ModelPhase.pin(self.project, self.graph, warehouse, node)
            if todo and not phase.warehouse.exists(node.ref):
                self._one(phase, todo.pop(0))  # the first commit creates the table, alone
            self._parallel(phase, todo)
        finally:
            release_locks(self.store, self.backfill_id, lock)

    def _parallel(self, phase: ModelPhase, todo: list[Partition]) -> None:
        pool = ThreadPoolExecutor(max_workers=max(1, self.workers),
                                  thread_name_prefix="afluente-backfill")
        futures: list[Future[None]] = []
        try:
            futures = [pool.submit(self._one, phase, p) for p in todo]
            wait(futures)
        except BaseException:  # Ctrl-C: running partitions commit, the others stay pending
            self.stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for future in futures:
            future.result()  # a bug in the bookkeeping itself is raised, not hidden

    def _one(self, phase: ModelPhase, partition: Partition) -> None:
        if self.stop.is_set():
            return  # left pending: a resume does it
        model, key = phase.node.name, partition.key
        run_id = new_run_id()
        self.store.start_partition(self.backfill_id, model, key, run_id)
        self._report(lambda: self.reporter.partition_started(model, key))
        try:
            outcome = build_partition(phase, partition, run_id)
        except Exception as exc:
            error = exc if isinstance(exc, AfluenteError) else EngineError(
                f"unexpected {type(exc).__name__}: {exc}", table=model)
            self.store.finish_partition(self.backfill_id, model, key, "failed",
                                        error=error.render())
            self.failed.add(phase.node.ref)
            self._record(PartitionResult(model, key, "failed", error=error.render(),
                                         run_id=run_id))
            return
        self.store.finish_partition(self.backfill_id, model, key, "success",
                                    rows=outcome.rows, version=outcome.version)
        self._record(PartitionResult(model, key, "success", outcome.rows, outcome.version,
                                     run_id=run_id))

    def _skip(self, model: str, partition: Partition, reason: str) -> None:
        self.store.finish_partition(self.backfill_id, model, partition.key, "skipped",
                                    error=reason)
        self._record(PartitionResult(model, partition.key, "skipped", error=reason))

    def _done(self, record: PartitionRecord) -> PartitionResult:
        return PartitionResult(record.model, record.partition, "done", record.rows_written,
                               record.version_written, run_id=record.run_id)

    def _upstream_failed(self, refs: list[TableRef] | tuple[TableRef, ...]) -> bool:
        return bool(self.failed & (self.graph.upstream_of(refs) | set(refs)))

    def _record(self, result: PartitionResult) -> None:
        with self._lock:
            self.results.append(result)
        self._report(lambda: self.reporter.partition_finished(result))

    def _report(self, call: Callable[[], None]) -> None:
        with self._lock:
            call()
