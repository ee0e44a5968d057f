"""Reading and writing `schedule_state`: where each schedule and sensor left off.

A schedule keeps the last cron slot it started (`last_slot`) with that slot's run id and
status; a sensor keeps a `cursor` (the files or table version it has already acted on).
The scheduler writes a slot *before* running it, so a restarted scheduler resumes that run
id instead of starting the slot again or forgetting it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from afluente.state import schema
from afluente.state.coltypes import utc_now
from afluente.state.store import StateStore

TriggerKind = Literal["schedule", "sensor", "maintenance"]


@dataclass(frozen=True)
class ScheduleState:
    """One row of `schedule_state`."""

    name: str
    kind: TriggerKind
    last_slot: datetime | None = None
    cursor: dict[str, Any] = field(default_factory=dict)
    last_run_id: str | None = None
    last_status: str | None = None  # running | success | failed
    updated_at: datetime | None = None

    def but(self, **changes: Any) -> ScheduleState:
        return replace(self, **changes)


class ScheduleStateStore(StateStore):
    """The state store plus the schedules' and sensors' progress."""

    @classmethod
    def open(cls, url: str) -> ScheduleStateStore:
        store = super().open(url)
        assert isinstance(store, ScheduleStateStore)
        return store

    def __enter__(self) -> ScheduleStateStore:
        return self

    def schedule_states(self) -> dict[tuple[TriggerKind, str], ScheduleState]:
        """Every saved state, by (kind, name)."""
        with self._read("read schedule state") as conn:
            rows = conn.execute(select(schema.schedule_state)).mappings().all()
        states = [ScheduleState(**dict(row)) for row in rows]
        return {(s.kind, s.name): s for s in states}

    def schedule_state(self, kind: TriggerKind, name: str) -> ScheduleState:
        """The saved state of one schedule or sensor (an empty one if never saved)."""
        return self.schedule_states().get((kind, name), ScheduleState(name, kind))

    def save_schedule_state(self, state: ScheduleState) -> ScheduleState:
        """Insert or replace the row; returns it with `updated_at` set."""
        saved = state.but(updated_at=utc_now())
        table = schema.schedule_state
        key = (table.c.name == state.name) & (table.c.kind == state.kind)
        with self._write(f"save state of {state.kind} {state.name!r}") as conn:
            conn.execute(table.delete().where(key))
            conn.execute(table.insert().values(vars(saved)))
        return saved
