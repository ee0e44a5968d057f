"""The runtime: plan and execute runs, answer queries. Names load on first use, so `plan`
does not pay for the state store or the query engine."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from afluente.runtime.planner import Plan, PlanStep
    from afluente.runtime.query import query_project, query_rows
    from afluente.runtime.reporter import Reporter, SilentReporter
    from afluente.runtime.results import ModelResult, RunResult
    from afluente.runtime.runner import new_run_id, plan_project, run_project

_EXPORTS = {
    "ModelResult": "afluente.runtime.results",
    "Plan": "afluente.runtime.planner",
    "PlanStep": "afluente.runtime.planner",
    "Reporter": "afluente.runtime.reporter",
    "RunResult": "afluente.runtime.results",
    "SilentReporter": "afluente.runtime.reporter",
    "new_run_id": "afluente.runtime.runner",
    "plan_project": "afluente.runtime.runner",
    "query_project": "afluente.runtime.query",
    "query_rows": "afluente.runtime.query",
    "run_project": "afluente.runtime.runner",
}

__all__ = [
    "ModelResult",
    "Plan",
    "PlanStep",
    "Reporter",
    "RunResult",
    "SilentReporter",
    "new_run_id",
    "plan_project",
    "query_project",
    "query_rows",
    "run_project",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'afluente.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
