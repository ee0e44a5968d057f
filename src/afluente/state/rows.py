"""Database rows to records, and the runtime checks on values written to the store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from afluente.errors import StateError
from afluente.state.records import (
    Event,
    EventLevel,
    ModelRunRecord,
    ModelStatus,
    RunRecord,
    RunStatus,
)


def run_record(row: Mapping[Any, Any], models: Iterable[ModelRunRecord] = ()) -> RunRecord:
    return RunRecord(
        run_id=row["run_id"],
        project=row["project"],
        status=cast(RunStatus, row["status"]),
        selector=row["selector"],
        args=row["args"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        error=row["error"],
        models=tuple(models),
    )


def model_run_record(row: Mapping[Any, Any]) -> ModelRunRecord:
    return ModelRunRecord(
        run_id=row["run_id"],
        model=row["model"],
        status=cast(ModelStatus, row["status"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        duration_s=row["duration_s"],
        rows_written=row["rows_written"],
        versions_read=row["versions_read"],
        version_written=row["version_written"],
        fingerprint=row["fingerprint"],
        error=row["error"],
        attempts=row["attempts"],
    )


def execution_order(model_run: ModelRunRecord) -> tuple[datetime, str]:
    """Models in the order they started (or, never started, were finished)."""
    moment = model_run.started_at or model_run.finished_at
    return (moment or datetime.max.replace(tzinfo=UTC), model_run.model)


def event_record(row: Mapping[Any, Any]) -> Event:
    return Event(
        type=row["type"],
        run_id=row["run_id"],
        model=row["model"],
        level=cast(EventLevel, row["level"]),
        payload=row["payload"],
        ts=row["ts"],
    )


def check_choice(what: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise a :class:`StateError` naming the valid choices when `value` is not one."""
    if value not in choices:
        raise StateError(
            f"{what} {value!r} is not valid",
            hint=f"use one of: {', '.join(choices)}",
        )


def check_versions(versions: dict[str, Any]) -> dict[str, int]:
    """A table → Delta version mapping, checked to hold integer versions."""
    bad = {
        table: version
        for table, version in versions.items()
        if isinstance(version, bool) or not isinstance(version, int)
    }
    if bad:
        raise StateError(
            f"versions_read must map table names to integer Delta versions, got {bad!r}"
        )
    return {str(table): version for table, version in versions.items()}
