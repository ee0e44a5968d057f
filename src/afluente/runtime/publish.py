"""Publish gold tables to the project's sinks: `afluente publish`, and after a run.

Each table is published at its current Delta version, streamed batch by batch from a pinned
snapshot (a concurrent run cannot change what is being copied). Every outcome is recorded in
the state store's event log; a failed table is reported and the others still publish.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from afluente.config import Project
from afluente.errors import AfluenteError
from afluente.model import Graph, TableRef, load_graph, select
from afluente.runtime.results import ModelResult
from afluente.sinks import (
    PublishOutcome,
    Sink,
    SinkTable,
    TableData,
    sink_config,
    sink_for,
    sink_names,
    sink_tables,
)
from afluente.state import Event, StateStore
from afluente.storage import Warehouse
from afluente.transform import visible_scan

#: Rows per Arrow batch streamed to a sink: bounded memory whatever the table size.
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class PublishResult:
    """Every table a `publish` touched, in order."""

    run_id: str
    outcomes: tuple[PublishOutcome, ...]

    @property
    def failed(self) -> tuple[PublishOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")


def publish_project(
    project: Project,
    selector: str | None = None,
    sink: str | None = None,
    *,
    force: bool = False,
    run_id: str | None = None,
) -> PublishResult:
    """Publish the selected tables of every sink (or of `sink`); failures are in the result.
    Under governance, publishing takes MODIFY on each table published (its copy in the sink
    changes), on top of the governed read of its rows."""
    from afluente.runtime.runner import new_run_id

    run_id = run_id or new_run_id()
    graph = load_graph(project)
    names = sink_names(project, sink)
    chosen = select(graph, selector) if selector is not None else None
    published = [t.ref for name in names  # every table name checked before anything runs
                 for t in sink_tables(project, graph, name) if chosen is None or t.ref in chosen]
    if project.config.governance is not None:  # publishing a table takes MODIFY on it
        from afluente.governance.reader import require_modify

        require_modify(project, published)
    state = StateStore.open(project.state_url)
    try:
        outcomes = [o for name in names
                    for o in _publish_sink(project, graph, name, chosen, state, run_id, force)]
    finally:
        state.close()
    return PublishResult(run_id, tuple(outcomes))


def publish_rebuilt(
    project: Project, graph: Graph, models: Iterable[ModelResult], state: StateStore,
    run_id: str,
) -> tuple[PublishOutcome, ...]:
    """After a run: publish, to each sink with `publish_after_run: true`, the tables the run
    rebuilt. Errors become failed outcomes; the built tables stay built."""
    rebuilt = {m.ref for m in models if m.status == "success"}
    outcomes: list[PublishOutcome] = []
    for name in project.config.sinks:
        try:
            if not sink_config(project, name).publish_after_run:
                continue
            outcomes += _publish_sink(project, graph, name, rebuilt, state, run_id, False)
        except AfluenteError as error:
            outcomes.append(_failed(name, "*", "*", "?", error))
            _record(state, outcomes[-1], run_id)
    return tuple(outcomes)


def publish_failures(outcomes: Iterable[PublishOutcome]) -> list[str]:
    """One line per failed publish, for the run's error."""
    return [f"publish {o.table} to sink {o.sink}: {o.error.message}"
            for o in outcomes if o.error is not None]


def _publish_sink(project: Project, graph: Graph, name: str, only: set[TableRef] | None,
                  state: StateStore, run_id: str, force: bool) -> list[PublishOutcome]:
    tables = [t for t in sink_tables(project, graph, name) if only is None or t.ref in only]
    if not tables:
        return []
    warehouse = Warehouse(project.warehouse_uri)
    sink = sink_for(project, name)
    try:
        return [_publish_one(project, sink, t, warehouse, state, run_id, force)
                for t in tables]
    finally:
        sink.close()


def _publish_one(project: Project, sink: Sink, table: SinkTable, warehouse: Warehouse,
                 state: StateStore, run_id: str, force: bool) -> PublishOutcome:
    started = time.perf_counter()
    try:
        outcome = sink.publish(table, table_data(warehouse, table.ref, project), run_id=run_id,
                               force=force)
    except AfluenteError as error:
        outcome = _failed(sink.name, str(table.ref), table.target, table.options.mode, error,
                          time.perf_counter() - started)
    _record(state, outcome, run_id)
    return outcome


def table_data(warehouse: Warehouse, ref: TableRef, project: Project | None = None
               ) -> TableData:
    """The table's current version, streamed from a snapshot pinned to that version (as
    the governed reader lets the caller see it, when `project` declares governance)."""
    delta = warehouse.open(ref)
    dataset = warehouse.readable(ref, delta)
    governed = _governed(project, ref, dataset) if project is not None else None
    if governed is not None:
        return TableData(ref, delta.version(), governed.schema,
                         lambda: iter(governed.to_batches(max_chunksize=BATCH_ROWS)))
    columns, visible = visible_scan(dataset.schema)  # apply_changes: no bookkeeping rows
    schema = pa.schema([dataset.schema.field(c) for c in columns])

    def batches() -> Iterator[pa.RecordBatch]:
        return iter(dataset.to_batches(columns=columns, filter=visible, batch_size=BATCH_ROWS))

    return TableData(ref, delta.version(), schema, batches)


def _governed(project: Project, ref: TableRef, dataset: Any) -> pa.Table | None:
    from afluente.governance.reader import GovernedReader
    from afluente.governance.scan import governed_table, needs_engine

    reader = GovernedReader.open(project)
    return governed_table(project, reader, ref, dataset) if needs_engine(project, reader) \
        else None


def _failed(sink: str, table: str, target: str, mode: str, error: AfluenteError,
            duration_s: float = 0.0) -> PublishOutcome:
    return PublishOutcome(sink, table, target, "failed", mode, error=error,
                          duration_s=duration_s)


def _record(state: StateStore, outcome: PublishOutcome, run_id: str) -> None:
    if outcome.status == "up_to_date":
        return
    payload = {"sink": outcome.sink, "target": outcome.target, "mode": outcome.mode,
               "version": outcome.version, "rows": outcome.rows,
               "duration_s": round(outcome.duration_s, 3)}
    if outcome.error is not None:
        payload["error"] = outcome.error.message
    state.emit(Event(
        type="table_published" if outcome.error is None else "publish_failed",
        run_id=run_id, model=outcome.table, level="error" if outcome.error else "info",
        payload=payload,
    ))
