"""Reading and writing the observability tables: run metrics and incidents.

A subclass of :class:`StateStore` so it shares the store's connections, migrations and
transactions: ``ObservabilityStore.open(url)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, select, type_coerce

from afluente.state import schema
from afluente.state.coltypes import JSONText, utc_now
from afluente.state.store import StateStore

if TYPE_CHECKING:
    import pyarrow as pa

OBSERVABILITY_TABLES = ("model_metrics", "incidents")


@dataclass(frozen=True)
class MetricsRow:
    """One model's metrics in one run (`afluente.model_metrics`)."""

    run_id: str
    model: str
    finished_at: datetime
    duration_s: float | None = None
    rows_read: int | None = None
    rows_written: int | None = None
    rows_added: int | None = None
    row_count: int | None = None
    bytes_written: int | None = None
    files_written: int | None = None
    versions_read: dict[str, int] = field(default_factory=dict)
    version_written: int | None = None
    columns: dict[str, str] = field(default_factory=dict)  # name -> Arrow type
    profile: dict[str, dict[str, float | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentRow:
    """An incident (`afluente.incidents`): open until a later check finds the table healthy."""

    model: str
    pillar: str
    metric: str
    severity: str
    message: str
    root: str
    downstream: list[str]
    details: dict[str, Any]
    opened_at: datetime
    last_seen_at: datetime
    status: str = "open"
    opened_run_id: str | None = None
    resolved_at: datetime | None = None
    resolved_run_id: str | None = None
    id: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.pillar, self.metric)


class ObservabilityStore(StateStore):
    """The state store plus the model metrics and incidents tables."""

    @classmethod
    def open(cls, url: str) -> ObservabilityStore:
        store = super().open(url)
        assert isinstance(store, ObservabilityStore)
        return store

    def __enter__(self) -> ObservabilityStore:
        return self

    def record_metrics(self, rows: list[MetricsRow]) -> None:
        table = schema.model_metrics
        with self._write("record model metrics") as conn:
            for row in rows:
                key = (table.c.run_id == row.run_id) & (table.c.model == row.model)
                conn.execute(table.delete().where(key))
                conn.execute(table.insert().values(vars(row)))

    def metrics(self, model: str | None = None, limit: int = 200) -> list[MetricsRow]:
        """Metrics oldest first (of one model, or all), the newest `limit` of them."""
        table = schema.model_metrics
        query = select(table).order_by(table.c.finished_at.desc()).limit(limit)
        if model is not None:
            query = query.where(table.c.model == model)
        with self._read("read model metrics") as conn:
            rows = [MetricsRow(**dict(r)) for r in conn.execute(query).mappings()]
        return rows[::-1]

    def incidents(self, status: str | None = None, model: str | None = None) -> list[IncidentRow]:
        table = schema.incidents
        query = select(table).order_by(table.c.id)
        if status is not None:
            query = query.where(table.c.status == status)
        if model is not None:
            query = query.where(table.c.model == model)
        with self._read("read incidents") as conn:
            return [IncidentRow(**dict(r)) for r in conn.execute(query).mappings()]

    def open_incident(self, incident: IncidentRow) -> IncidentRow:
        values = {k: v for k, v in vars(incident).items() if k != "id"}
        with self._write(f"open incident on {incident.model}") as conn:
            new_id = conn.execute(schema.incidents.insert().values(values)).inserted_primary_key
        return IncidentRow(**{**values, "id": int(new_id[0]) if new_id else None})

    def touch_incident(self, incident_id: int, seen_at: datetime, details: dict[str, Any]) -> None:
        table = schema.incidents
        update = table.update().where(table.c.id == incident_id)
        with self._write("update incident") as conn:
            conn.execute(update.values(last_seen_at=seen_at, details=details))

    def resolve_incident(self, incident_id: int, run_id: str | None) -> None:
        table = schema.incidents
        update = table.update().where(table.c.id == incident_id)
        with self._write("resolve incident") as conn:
            conn.execute(
                update.values(status="resolved", resolved_at=utc_now(), resolved_run_id=run_id)
            )

    def observability_arrow(self, name: str) -> pa.Table:
        """`model_metrics` or `incidents` as Arrow (JSON columns as strings)."""
        from afluente.state.arrow import to_arrow_table

        source = {"model_metrics": schema.model_metrics, "incidents": schema.incidents}[name]
        columns = [
            type_coerce(c, Text).label(c.name) if isinstance(c.type, JSONText) else c
            for c in source.columns
        ]
        query = select(*columns).order_by(*source.primary_key.columns)
        with self._read(f"export table {name!r}") as conn:
            rows = [tuple(row) for row in conn.execute(query)]
        return to_arrow_table(source, rows)
