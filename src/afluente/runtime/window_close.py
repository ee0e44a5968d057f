"""Closing windows: a window table's rows become final once the stream's watermark passes
them, and are then appended, once each, to `<table>__final`.

A `merge` model with `closes_at: <column>` (a window's end; a session's last event plus its
gap) reads a stream whose rows have an event time (an upstream with `event_time:`). That
upstream's watermark — the newest event time it accepted minus its lateness, from its last
commit — only moves forward, and a row older than it is late (set aside), so a window
whose `closes_at` is at or before it can no longer change. After each micro-batch, the rows
that closed since the last one (`closes_at` in (the watermark recorded in `__final`'s last
commit, the watermark now]) are appended to `<table>__final` with `_closed_by` (the
watermark that closed them), and the new watermark is recorded in that same commit: a
process killed between the table's commit and this one closes them in the next micro-batch.
Sinks that take final rows only (append-only outputs) read `__final`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from afluente.errors import ModelError
from afluente.model import Graph, Node
from afluente.runtime.event_time import bound, newest_recorded
from afluente.runtime.planner import streamed_inputs
from afluente.runtime.quarantine_names import final_ref
from afluente.storage import Warehouse

PROGRESS_KEY = "closed_through"
CLOSED_BY = "_closed_by"


def check_closes_at(schema: pa.Schema, node: Node) -> None:
    """`closes_at` names a time column of the output (checked before anything is written)."""
    column = node.config.closes_at
    if column is None:
        return
    if column not in schema.names:
        raise ModelError(
            f"`closes_at: {column}` is not a column of the model's output (columns: "
            f"{', '.join(schema.names)})", location=node.location, table=str(node.ref),
            hint="select the window's end (or a session's last event plus its gap) under "
                 "that name")
    kind = schema.field(column).type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        raise ModelError(f"`closes_at: {column}` is of type {kind}, not a timestamp or date",
                         location=node.location, table=str(node.ref),
                         hint=f"CAST({column} AS TIMESTAMP) in the query")


def stream_watermark(graph: Graph, warehouse: Warehouse, node: Node) -> datetime | None:
    """The watermark of the streams `node` reads (the earliest of its inputs with an event
    time); None while one of them has none yet."""
    found: list[datetime] = []
    for up in streamed_inputs(graph, node.ref):
        config = graph[up].config
        if config.event_time is None:
            continue
        last = warehouse.last_commit(up)
        newest = newest_recorded(last.progress if last else None, config.event_time)
        if not isinstance(newest, datetime):
            return None  # nothing accepted yet, or not recorded: nothing closes now
        found.append(newest - (config.watermark or timedelta(0)))
    return min(found, default=None)


def close_windows(graph: Graph, warehouse: Warehouse, node: Node, *, run_id: str,
                  fingerprint: str, rebuild: bool) -> int:
    """Append the rows that closed since the last micro-batch to `<table>__final`; how
    many. A rebuild writes every closed row again (replacing `__final`)."""
    column = node.config.closes_at
    if column is None or not warehouse.exists(node.ref):
        return 0
    watermark = stream_watermark(graph, warehouse, node)
    if watermark is None:
        return 0
    target = final_ref(node.ref)
    last = warehouse.last_commit(target) if warehouse.exists(target) else None
    recorded = (last.progress or {}).get(PROGRESS_KEY) if last and not rebuild else None
    through = None if recorded is None else datetime.fromisoformat(str(recorded))
    if through is not None and watermark <= through:
        return 0
    dataset = warehouse.dataset(node.ref)
    kind = dataset.schema.field(column).type
    closed = pc.field(column) <= bound(watermark, kind)
    if through is not None:
        closed = closed & (pc.field(column) > bound(through, kind))
    rows = dataset.to_table(filter=closed)
    if not rows.num_rows and not (rebuild and last is not None):
        return 0
    stamp = pa.timestamp("us") if not pa.types.is_timestamp(kind) else kind
    rows = rows.append_column(CLOSED_BY, pa.array([watermark] * rows.num_rows, stamp))
    warehouse.append(
        target, pa.RecordBatchReader.from_batches(rows.schema, rows.to_batches()),
        run_id=run_id, fingerprint=fingerprint, inputs={str(node.ref): "closed"},
        progress={PROGRESS_KEY: watermark.isoformat()}, overwrite=rebuild,
    )
    return rows.num_rows
