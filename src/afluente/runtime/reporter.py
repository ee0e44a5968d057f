"""How a run tells the outside world what it does. The CLI supplies a rich or JSON reporter;
tests and library callers get the silent one."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from afluente.connectors import IngestStats
    from afluente.model import TableRef
    from afluente.runtime.planner import Plan, PlanStep
    from afluente.runtime.results import ModelResult, RunResult


class Reporter(Protocol):
    def plan_ready(self, run_id: str, plan: Plan) -> None: ...

    def model_started(self, step: PlanStep) -> None: ...

    def model_finished(self, result: ModelResult) -> None: ...

    def ingest_progress(self, ref: TableRef, stats: IngestStats) -> None: ...

    def run_finished(self, result: RunResult) -> None: ...


class SilentReporter:
    """Reports nothing."""

    def plan_ready(self, run_id: str, plan: Plan) -> None:
        return None

    def model_started(self, step: PlanStep) -> None:
        return None

    def model_finished(self, result: ModelResult) -> None:
        return None

    def ingest_progress(self, ref: TableRef, stats: IngestStats) -> None:
        return None

    def run_finished(self, result: RunResult) -> None:
        return None


class SerialReporter:
    """Calls `inner` from one thread at a time: the executor's workers report concurrently,
    and a terminal progress bar or an event emitter need not be thread-safe."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner
        self._lock = threading.Lock()

    def plan_ready(self, run_id: str, plan: Plan) -> None:
        with self._lock:
            self.inner.plan_ready(run_id, plan)

    def model_started(self, step: PlanStep) -> None:
        with self._lock:
            self.inner.model_started(step)

    def model_finished(self, result: ModelResult) -> None:
        with self._lock:
            self.inner.model_finished(result)

    def ingest_progress(self, ref: TableRef, stats: IngestStats) -> None:
        with self._lock:
            self.inner.ingest_progress(ref, stats)

    def run_finished(self, result: RunResult) -> None:
        with self._lock:
            self.inner.run_finished(result)
