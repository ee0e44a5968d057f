"""Execute a plan: build the DAG with N workers in dependency order, retry what failed for
a transient reason, stop models that run past their timeout, isolate failures.

A failed model leaves its table at its previous Delta version (the write is one commit that
never happens); its downstream models are skipped with the reason; independent branches go
on. Each worker has its own engine (a DuckDB connection) so models run truly in parallel;
the versions committed during the run are shared. A model built on another engine than the
project's (`engine:` in its config) gets a builder on an engine of that kind, made on first
need. With one worker the order is the plan's.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from afluente.config import Project
from afluente.config.orchestration import RunSettings
from afluente.errors import ModelTimeoutError
from afluente.model import Graph, TableRef
from afluente.runtime.model_build import ModelBuilder
from afluente.runtime.model_engines import ModelEngines
from afluente.runtime.planner import Plan, PlanStep
from afluente.runtime.reporter import Reporter
from afluente.runtime.results import ModelResult
from afluente.runtime.transient import backoff_delay, is_transient
from afluente.state import Event, StateStore
from afluente.storage import Warehouse

log = logging.getLogger("afluente.run")

#: How often the executor looks at running models' clocks (timeouts, interrupts).
_TICK_S = 0.25


@dataclass
class _Clock:
    """One running model's deadline; the worker restarts it at each attempt."""

    timeout: timedelta | None
    deadline: float | None = None
    timed_out: bool = False

    def restart(self) -> None:
        self.timed_out = False
        if self.timeout is not None:
            self.deadline = time.monotonic() + self.timeout.total_seconds()


@dataclass
class _Task:
    step: PlanStep
    builder: ModelBuilder
    clock: _Clock


@dataclass
class Executor:
    project: Project
    graph: Graph
    plan: Plan
    warehouse: Warehouse
    state: StateStore
    reporter: Reporter
    run_id: str
    started_at: datetime
    engines: ModelEngines
    settings: RunSettings = field(default_factory=RunSettings)
    stop: threading.Event = field(default_factory=threading.Event)
    versions: dict[TableRef, int] = field(default_factory=dict)
    reasons: dict[TableRef, str] = field(default_factory=dict)
    _builders: list[ModelBuilder] = field(default_factory=list)
    _free: dict[str, queue.SimpleQueue[ModelBuilder]] = field(default_factory=dict)
    _up_to_date: list[str] = field(default_factory=list)  # not recorded in the store yet

    def execute(self) -> tuple[ModelResult, ...]:
        steps = self.plan.steps
        position = {s.ref: i for i, s in enumerate(steps)}
        waiting = {s.ref: {u for u in s.node.upstream if u in position} for s in steps}
        dependents: dict[TableRef, list[TableRef]] = {s.ref: [] for s in steps}
        for step in steps:
            for up in waiting[step.ref]:
                dependents[up].append(step.ref)
        ready = [position[s.ref] for s in steps if not waiting[s.ref]]
        heapq.heapify(ready)
        results: dict[TableRef, ModelResult] = {}
        broken: dict[TableRef, TableRef] = {}  # a failed or skipped model -> the failed root
        running: dict[Future[ModelResult], _Task] = {}

        def finished(step: PlanStep, result: ModelResult) -> None:
            results[step.ref] = result
            if result.status in ("failed", "skipped"):
                broken[step.ref] = broken.get(step.ref, step.ref)
            for down in dependents[step.ref]:
                waiting[down].discard(step.ref)
                if not waiting[down]:
                    heapq.heappush(ready, position[down])

        workers = max(1, self.settings.workers)
        with ThreadPoolExecutor(workers, thread_name_prefix="afluente-worker") as pool:
            try:
                while ready or running:
                    while ready and len(running) < workers:
                        step = steps[heapq.heappop(ready)]
                        immediate = self._without_worker(step, broken, results)
                        if immediate is not None:
                            finished(step, immediate)
                            continue
                        self._record_up_to_date()  # before anything else is recorded
                        task = _Task(step, self._builder(step), _Clock(self._timeout(step)))
                        running[pool.submit(self._run, task)] = task
                    if not running:
                        continue
                    done, _ = wait(running, timeout=_TICK_S, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = running.pop(future)
                        self._free[self.engines.name_of(task.step.node)].put(task.builder)
                        finished(task.step, future.result())
                    self._enforce_timeouts(running.values())
            finally:
                self._record_up_to_date()
        for builder in self._builders:
            builder.engine.close()
        return tuple(results[s.ref] for s in steps)

    def _without_worker(
        self, step: PlanStep, broken: dict[TableRef, TableRef],
        results: dict[TableRef, ModelResult],
    ) -> ModelResult | None:
        """The outcome of a step that needs no building (skipped, up to date), else None."""
        root = next((broken[u] for u in step.node.upstream if u in broken), None)
        if root is not None:
            broken[step.ref] = root
            return self._skip(step, f"upstream `{root}` failed")
        empty = next((u for u in step.node.upstream if self._never_written(u, results)), None)
        if empty is not None:  # e.g. a stream whose topic or folder has nothing yet
            return self._any_builder(step).nothing_new(
                step, 0.0, f"upstream `{empty}` has no data yet")
        if step.action == "skip":
            self._up_to_date.append(step.node.name)
            return self._any_builder(step).up_to_date(step, record=False)
        if self.stop.is_set():
            return self._skip(step, "the run was stopped before this model started")
        return None

    def _never_written(self, ref: TableRef, results: dict[TableRef, ModelResult]) -> bool:
        """A stored table this run found nothing for, that was never written before."""
        result = results.get(ref)
        return (result is not None and result.status == "up_to_date" and result.version is None
                and self.graph[ref].materialized)

    def _record_up_to_date(self) -> None:
        """Record the models found up to date since the last call, in one transaction."""
        if self._up_to_date:
            names, self._up_to_date = self._up_to_date, []
            self.state.finish_model_runs(self.run_id, names, "up_to_date")

    def _skip(self, step: PlanStep, reason: str) -> ModelResult:
        return self._any_builder(step).skip(step, reason)

    def _run(self, task: _Task) -> ModelResult:
        """On a worker: attempt the model until it succeeds, fails for good or runs out of
        retries (transient failures only), then record the failure."""
        step, builder, clock = task.step, task.builder, task.clock
        retries = step.node.config.retries
        if retries is None:
            retries = self.settings.retries
        attempt = 1
        while True:
            clock.restart()
            result = builder.attempt(step, attempt)
            if clock.timed_out:
                result = self._timed_out(step, result, clock)
            if result.status != "failed" or result.error is None:
                return result
            if attempt > retries or not is_transient(result.error) or clock.timed_out:
                return builder.fail(step, result)
            delay = backoff_delay(attempt, self.settings.retry_delay,
                                  self.settings.retry_max_delay)
            log.warning("%s failed (attempt %d of %d), retrying in %.1fs: %s", step.ref,
                        attempt, retries + 1, delay, result.reason.splitlines()[0],
                        extra={"run_id": self.run_id, "model": step.node.name})
            self.state.emit(Event(
                type="model_retry", run_id=self.run_id, model=step.node.name, level="warning",
                payload={"attempt": attempt, "delay_s": round(delay, 3), "error": result.reason},
            ))
            if self.stop.wait(delay):
                return builder.fail(step, result)
            attempt += 1

    def _timed_out(self, step: PlanStep, result: ModelResult, clock: _Clock) -> ModelResult:
        if result.status != "failed":  # it committed before the interrupt landed
            log.warning("%s finished after its timeout of %s", step.ref, clock.timeout)
            return result
        error = ModelTimeoutError(
            f"ran longer than its timeout of {clock.timeout}; its query was interrupted and "
            "nothing was committed",
            location=step.node.location, table=step.node.name, run_id=self.run_id,
            hint="raise `timeout:` in the model's config (or `run: timeout:` in afluente.yml),"
            " or make the model cheaper",
        )
        return ModelResult(step.ref, "failed", error.render(), result.duration_s, error=error,
                           attempts=result.attempts)

    def _enforce_timeouts(self, tasks: Iterable[_Task]) -> None:
        now = time.monotonic()
        for task in tasks:
            clock = task.clock
            if clock.deadline is not None and now >= clock.deadline:
                if not clock.timed_out:
                    log.error("%s exceeded its timeout of %s: interrupting it", task.step.ref,
                              clock.timeout)
                clock.timed_out = True
                task.builder.engine.interrupt()  # again each tick, until the model returns

    def _timeout(self, step: PlanStep) -> timedelta | None:
        return step.node.config.timeout or self.settings.timeout

    def _builder(self, step: PlanStep) -> ModelBuilder:
        """A free builder on the engine that builds `step`'s model (made when none is)."""
        name = self.engines.name_of(step.node)
        free = self._free.setdefault(name, queue.SimpleQueue())
        try:
            return free.get_nowait()
        except queue.Empty:
            builder = ModelBuilder(
                self.project, self.graph, self.plan, self.engines.create(name), self.warehouse,
                self.state, self.reporter, self.run_id, self.started_at, self.versions,
                self.reasons,
            )
            self._builders.append(builder)
            return builder

    def _any_builder(self, step: PlanStep) -> ModelBuilder:
        """A builder for bookkeeping on the scheduling thread (no engine work)."""
        if not self._builders:
            name = self.engines.name_of(step.node)
            self._free.setdefault(name, queue.SimpleQueue()).put(self._builder(step))
        return self._builders[0]
