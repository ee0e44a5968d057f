"""Event time in a stream: the watermark, late rows and re-sent rows of one micro-batch.

A model with `event_time: <column>` keeps, in the progress of each commit of its table, the
newest event time it has accepted. The watermark of the next micro-batch is that time minus
the declared lateness (`watermark: 10 minutes`): a row whose event time is older is late and
goes to `<table>__late` with the reason (unless `late_data: apply`); a row with no event
time too. With `dedup_keys`, a row whose key is already in the table among the rows at or
after the watermark (a re-sent message), or earlier in the same micro-batch, is dropped.
Everything here is pure Arrow over the micro-batch; the build reads and writes the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from afluente.errors import Location, ModelError
from afluente.model.model_config import ModelConfig

PROGRESS_KEY = "event_time"  # {"column": ..., "max": ISO time} in the commit's progress
LATE_REASON, WATERMARK = "_late_reason", "_watermark"
_INDEX = "__afluente_row"

#: the stored rows' keys at or after a watermark (None: every stored row's)
SeenKeys = Callable[[tuple[str, ...], datetime | None], pa.Table]


@dataclass(frozen=True)
class Split:
    """A micro-batch sorted out: the rows to write, the late ones (with their reason), how
    many re-sent rows were dropped, and the newest event time accepted so far."""

    on_time: pa.Table
    late: pa.Table
    duplicates: int
    newest: datetime | None
    watermark: datetime | None

    def progress(self, column: str) -> dict[str, Any]:
        newest = None if self.newest is None else self.newest.isoformat()
        return {PROGRESS_KEY: {"column": column, "max": newest}}


def newest_recorded(progress: dict[str, Any] | None, column: str) -> datetime | str | None:
    """The newest event time a commit's progress holds; "unknown" when it holds none for
    `column` (a table written before, or by a rebuild: the table itself is then read)."""
    found = (progress or {}).get(PROGRESS_KEY)
    if not isinstance(found, dict) or found.get("column") != column:
        return "unknown"
    value = found.get("max")
    return None if value is None else datetime.fromisoformat(str(value))


def bound(moment: datetime, kind: pa.DataType) -> pa.Scalar:
    """`moment` as a scalar comparable with an event time column of type `kind`."""
    return pa.scalar(moment if pa.types.is_timestamp(kind) else moment.date(), kind)


def check_event_column(schema: pa.Schema, config: ModelConfig, location: Location,
                       table: str) -> None:
    """The event time column exists and holds times."""
    column = config.event_time
    assert column is not None
    if column not in schema.names:
        raise ModelError(
            f"`event_time: {column}` is not a column of the model's output "
            f"(columns: {', '.join(schema.names)})", location=location, table=table,
            hint="name one of those columns, or select the event time under that name")
    kind = schema.field(column).type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        raise ModelError(
            f"`event_time: {column}` is of type {kind}, not a timestamp or date",
            location=location, table=table, hint=f"CAST({column} AS TIMESTAMP) in the query")
    missing = [k for k in config.dedup_keys or () if k not in schema.names]
    if missing:
        raise ModelError(
            f"`dedup_keys` names {', '.join(missing)}, not a column of the model's output "
            f"(columns: {', '.join(schema.names)})", location=location, table=table)


def check_feature_columns(schema: pa.Schema, config: ModelConfig, location: Location,
                          table: str) -> None:
    """A feature table's output has its `event_time` (a time) and `entity_key` columns."""
    check_event_column(schema, config, location, table)
    missing = [k for k in config.entity_key or () if k not in schema.names]
    if missing:
        raise ModelError(
            f"`entity_key` names {', '.join(missing)}, not a column of the model's output "
            f"(columns: {', '.join(schema.names)})", location=location, table=table,
            hint="name the columns that identify the entity, or select them under that name")


def split_batch(rows: pa.Table, config: ModelConfig, newest: datetime | None,
                seen: SeenKeys | None) -> Split:
    """Sort out a micro-batch against the newest event time accepted before it (`newest`;
    None: nothing yet, no row is late). `seen` gives the stored keys (None: the table is
    rebuilt from this batch alone)."""
    column = config.event_time
    assert column is not None
    lateness = config.watermark or timedelta(0)
    watermark = None if newest is None else newest - lateness
    times = rows[column]
    late_mask = pc.is_null(times)
    if watermark is not None:
        late_mask = pc.or_(late_mask, pc.less(times, bound(watermark, times.type)))
    late_mask = pc.fill_null(late_mask, True)
    if config.late_data == "apply":
        on_time, late = rows, rows.slice(0, 0)
    else:
        on_time, late = rows.filter(pc.invert(late_mask)), rows.filter(late_mask)
    batch_newest = pc.max(rows[column]).as_py()
    newest_now = max((t for t in (newest, as_datetime(batch_newest)) if t is not None),
                     default=None)
    kept, dropped = _dedup(on_time, config, watermark, seen)
    return Split(kept, _with_reason(late, column, watermark, lateness), dropped, newest_now,
                 watermark)


def as_datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, datetime.min.time())  # type: ignore[arg-type]


def _dedup(rows: pa.Table, config: ModelConfig, watermark: datetime | None,
           seen: SeenKeys | None) -> tuple[pa.Table, int]:
    """Drop the rows whose `dedup_keys` came before: stored at or after the watermark, or
    earlier in this batch (the first one is kept)."""
    keys = config.dedup_keys
    if not keys or not rows.num_rows:
        return rows, 0
    numbered = rows.append_column(_INDEX, pa.array(range(rows.num_rows), pa.int64()))
    firsts = numbered.group_by(list(keys), use_threads=False).aggregate([(_INDEX, "min")])
    kept = numbered.filter(pc.is_in(numbered[_INDEX], firsts[f"{_INDEX}_min"]))
    if seen is not None:
        stored = seen(keys, watermark)
        if stored.num_rows:
            stored = stored.select(list(keys)).cast(kept.select(list(keys)).schema)
            kept = kept.join(stored, list(keys), join_type="left anti", use_threads=False)
    kept = kept.sort_by(_INDEX).drop_columns([_INDEX])
    return kept, rows.num_rows - kept.num_rows


def _with_reason(late: pa.Table, column: str, watermark: datetime | None,
                 lateness: timedelta) -> pa.Table:
    """The late rows with `_late_reason` (their event time against the watermark) and
    `_watermark`."""
    reasons = [
        f"{column} is NULL" if t is None else
        f"{column} {t} is older than the watermark {watermark} (the newest {column} seen "
        f"minus the lateness {lateness})"
        for t in late[column].to_pylist()
    ]
    wm_type = late.schema.field(column).type
    if not pa.types.is_timestamp(wm_type):
        wm_type = pa.timestamp("us")
    return (late.append_column(LATE_REASON, pa.array(reasons, pa.string()))
            .append_column(WATERMARK, pa.array([watermark] * late.num_rows, wm_type)))
