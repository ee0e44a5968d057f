"""The outcome of a run and of each of its models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from afluente.errors import AfluenteError
from afluente.model import TableRef

if TYPE_CHECKING:
    from afluente.runtime.quality_step import QualityTally
    from afluente.sinks import PublishOutcome

ModelStatus = Literal["success", "failed", "skipped", "up_to_date"]
RunStatus = Literal["success", "failed"]


@dataclass(frozen=True)
class ModelResult:
    ref: TableRef
    status: ModelStatus
    reason: str
    duration_s: float = 0.0
    rows: int | None = None
    version: int | None = None
    versions_read: dict[str, int] = field(default_factory=dict)
    error: AfluenteError | None = None
    attempts: int = 1  # tries it took; more than 1 after retries of transient errors
    table_rows: int | None = None  # rows readers of the table see after this run
    quality: QualityTally | None = None  # what the model's expectations did in this build


@dataclass(frozen=True)
class RunResult:
    run_id: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime
    models: tuple[ModelResult, ...]
    published: tuple[PublishOutcome, ...] = ()  # tables published to sinks after the models
    error: str | None = None  # why it failed: one `table: reason` per failure, `; `-joined

    def count(self, status: ModelStatus) -> int:
        return sum(1 for m in self.models if m.status == status)

    @property
    def failed(self) -> tuple[ModelResult, ...]:
        return tuple(m for m in self.models if m.status == "failed")
