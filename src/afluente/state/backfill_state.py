"""Reading and writing the backfill tables: one row per backfill, one per partition task.

Every partition's status is written as it changes (pending → running → success | failed |
skipped), each in its own short transaction, so a backfill killed at any moment leaves a
record of exactly which partitions committed: `afluente backfill --resume ID` redoes the
others. A subclass of :class:`StateStore` (shares its connections and migrations):
``BackfillStore.open(url)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from afluente.errors import StateError
from afluente.state import schema
from afluente.state.coltypes import utc_now
from afluente.state.store import StateStore

BackfillStatus = Literal["running", "success", "failed", "interrupted"]
PartitionStatus = Literal["pending", "running", "success", "failed", "skipped"]


@dataclass(frozen=True)
class BackfillRecord:
    backfill_id: str
    project: str
    selector: str | None
    start: str
    end: str
    workers: int
    status: str
    created_at: datetime
    finished_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class PartitionRecord:
    backfill_id: str
    model: str
    partition: str
    status: str
    run_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    rows_written: int | None = None
    version_written: int | None = None
    error: str | None = None


class BackfillStore(StateStore):
    """The state store plus the `backfills` and `backfill_partitions` tables."""

    @classmethod
    def open(cls, url: str) -> BackfillStore:
        store = super().open(url)
        assert isinstance(store, BackfillStore)
        return store

    def __enter__(self) -> BackfillStore:
        return self

    def create_backfill(self, record: BackfillRecord, tasks: Sequence[tuple[str, str]]) -> None:
        """Record a backfill and its (model, partition) tasks, all pending, in one go."""
        with self._write(f"start backfill {record.backfill_id!r}") as conn:
            conn.execute(schema.backfills.insert().values(vars(record)))
            if tasks:
                conn.execute(schema.backfill_partitions.insert(), [
                    {"backfill_id": record.backfill_id, "model": m, "partition": p,
                     "status": "pending"}
                    for m, p in tasks
                ])

    def get_backfill(self, backfill_id: str) -> BackfillRecord:
        table = schema.backfills
        with self._read(f"read backfill {backfill_id!r}") as conn:
            row = conn.execute(select(table).where(table.c.backfill_id == backfill_id)).first()
            recent = conn.execute(
                select(table.c.backfill_id).order_by(table.c.created_at.desc()).limit(5)
            ).scalars().all()
        if row is None:
            known = ", ".join(recent) or "none yet"
            raise StateError(
                f"no backfill `{backfill_id}` in the state store",
                hint=f"recent backfills: {known}",
            )
        return BackfillRecord(**dict(row._mapping))

    def unfinished(self, project: str, selector: str | None, start: str,
                   end: str) -> BackfillRecord | None:
        """The newest backfill of the same selection and range that did not succeed."""
        table = schema.backfills
        query = (
            select(table)
            .where((table.c.project == project) & (table.c.start == start)
                   & (table.c.end == end) & (table.c.status != "success"))
            .where(table.c.selector.is_(None) if selector is None
                   else table.c.selector == selector)
            .order_by(table.c.created_at.desc())
            .limit(1)
        )
        with self._read("look for an unfinished backfill") as conn:
            row = conn.execute(query).first()
        return BackfillRecord(**dict(row._mapping)) if row is not None else None

    def partitions(self, backfill_id: str) -> list[PartitionRecord]:
        table = schema.backfill_partitions
        query = (select(table).where(table.c.backfill_id == backfill_id)
                 .order_by(table.c.model, table.c.partition))
        with self._read(f"read the partitions of backfill {backfill_id!r}") as conn:
            return [PartitionRecord(**dict(r)) for r in conn.execute(query).mappings()]

    def start_partition(self, backfill_id: str, model: str, partition: str, run_id: str) -> None:
        self._update_partition(backfill_id, model, partition, {
            "status": "running", "run_id": run_id, "started_at": utc_now(),
            "finished_at": None, "rows_written": None, "version_written": None, "error": None,
        })

    def finish_partition(
        self,
        backfill_id: str,
        model: str,
        partition: str,
        status: PartitionStatus,
        *,
        rows: int | None = None,
        version: int | None = None,
        error: str | None = None,
    ) -> None:
        self._update_partition(backfill_id, model, partition, {
            "status": status, "finished_at": utc_now(), "rows_written": rows,
            "version_written": version, "error": error,
        })

    def set_backfill_status(
        self, backfill_id: str, status: BackfillStatus, error: str | None = None
    ) -> None:
        table = schema.backfills
        finished = None if status == "running" else utc_now()
        with self._write(f"mark backfill {backfill_id!r} {status}") as conn:
            conn.execute(table.update().where(table.c.backfill_id == backfill_id)
                         .values(status=status, finished_at=finished, error=error))

    def _update_partition(
        self, backfill_id: str, model: str, partition: str, values: dict[str, object]
    ) -> None:
        table = schema.backfill_partitions
        key = ((table.c.backfill_id == backfill_id) & (table.c.model == model)
               & (table.c.partition == partition))
        with self._write(f"update partition {partition} of {model}") as conn:
            conn.execute(table.update().where(key).values(values))
