"""The runtime: plan and execute runs, answer queries."""

from afluente.runtime.planner import Plan, PlanStep
from afluente.runtime.query import query_project
from afluente.runtime.reporter import Reporter, SilentReporter
from afluente.runtime.results import ModelResult, RunResult
from afluente.runtime.runner import new_run_id, plan_project, run_project

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
    "run_project",
]
