"""What the state store returns: immutable records of runs, model runs and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

RunStatus = Literal["running", "success", "failed", "partial"]
ModelStatus = Literal["pending", "running", "success", "failed", "skipped", "up_to_date"]
EventLevel = Literal["info", "warning", "error"]

RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
MODEL_STATUSES: tuple[str, ...] = get_args(ModelStatus)
EVENT_LEVELS: tuple[str, ...] = get_args(EventLevel)

#: Statuses a run or a model run may be finished with.
FINAL_RUN_STATUSES: tuple[str, ...] = ("success", "failed", "partial")
FINAL_MODEL_STATUSES: tuple[str, ...] = ("success", "failed", "skipped", "up_to_date")


@dataclass(frozen=True)
class ModelRunRecord:
    """One model inside one run: its outcome and the Delta versions it read and wrote."""

    run_id: str
    model: str
    status: ModelStatus
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    rows_written: int | None
    versions_read: dict[str, int]
    version_written: int | None
    fingerprint: str | None
    error: str | None
    attempts: int | None = None  # tries it took (None before afluente recorded them)


@dataclass(frozen=True)
class RunRecord:
    """One execution of (part of) the graph, with its model runs when loaded."""

    run_id: str
    project: str
    status: RunStatus
    selector: str | None
    args: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    models: tuple[ModelRunRecord, ...] = ()


@dataclass(frozen=True)
class Event:
    """A structured entry of the event log; `ts` is filled in (UTC now) when emitted."""

    type: str
    run_id: str | None = None
    model: str | None = None
    level: EventLevel = "info"
    payload: dict[str, Any] = field(default_factory=dict)
    ts: datetime | None = None
