"""How a run tells the outside world what it does. The CLI supplies a rich or JSON reporter;
tests and library callers get the silent one."""

from __future__ import annotations

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
