"""Schedules and sensors: when runs start without a person typing `afluente run`.

`afluente validate` calls :func:`validate_orchestration`; `afluente scheduler` runs a
:class:`Scheduler`; :class:`CronSchedule` computes a schedule's slots in its timezone.
Names load on first use, so importing one module of the package (say, the Airflow DAG
factory) does not pay for the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from afluente.scheduler.checks import validate_orchestration
    from afluente.scheduler.cron import CronSchedule
    from afluente.scheduler.loop import Scheduler, stop_on_signals

_EXPORTS = {
    "CronSchedule": "afluente.scheduler.cron",
    "Scheduler": "afluente.scheduler.loop",
    "stop_on_signals": "afluente.scheduler.loop",
    "validate_orchestration": "afluente.scheduler.checks",
}

__all__ = ["CronSchedule", "Scheduler", "stop_on_signals", "validate_orchestration"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'afluente.scheduler' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
