"""`afluente maintain`: compaction, Z-order, vacuum and checkpoints of the tables whose model
(or source) declares `maintenance:` (docs/maintenance.md).

Each table is maintained while holding its table lock (`table:<layer.name>`), the one a run
writing it takes: a run in progress finishes first (waited for up to `run: lock_timeout`,
then the error names the holder). A vacuum keeps files for the declared `time_travel` and
at least as long as the oldest live run has been running (a reader of an older version).
Before/after figures (files, bytes, a filtered query's files and time) go to the event log
as a `maintenance` event per table. Under governance it takes MODIFY on each table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from afluente.config import Project
from afluente.config.maintenance import MaintenanceSpec, describe_span
from afluente.errors import ConfigError
from afluente.model import Graph, Node, load_graph, select
from afluente.runtime.runner import new_run_id
from afluente.state import StateStore
from afluente.state.coltypes import utc_now
from afluente.state.records import Event
from afluente.storage import Warehouse
from afluente.storage.maintenance import (
    Footprint,
    MaintenanceWork,
    Probe,
    TableMaintained,
    maintain_table,
    probe_value,
)

log = logging.getLogger("afluente.maintenance")


@dataclass(frozen=True)
class MaintenanceResult:
    """One table's maintenance, with the filter its query figures were measured on."""

    table: str
    done: TableMaintained
    probe: Probe | None

    def as_json(self) -> dict[str, Any]:
        done = self.done
        return {
            "table": self.table, "before": _figures(done.before), "after": _figures(done.after),
            "files_removed": done.files_removed, "files_added": done.files_added,
            "z_ordered": done.z_ordered, "files_vacuumed": done.files_vacuumed,
            "vacuum_retention_hours": None if done.vacuum_retention is None
            else done.vacuum_retention.total_seconds() / 3600,
            "checkpoint": done.checkpoint, "log_files_removed": done.log_files_removed,
            "probe": None if self.probe is None
            else f"{self.probe.column} = {self.probe.value!r}",
        }


def declared(graph: Graph, selector: str | None = None) -> list[Node]:
    """The selected tables that declare `maintenance:`, in build order."""
    chosen = select(graph, selector)
    return [graph[ref] for ref in graph.order
            if ref in chosen and graph[ref].config.maintenance is not None]


def maintain_tables(project: Project, selector: str | None = None, *,
                    vacuum: timedelta | None = None, graph: Graph | None = None,
                    wait: timedelta | None = None, run_id: str | None = None,
                    on_table: Callable[[str], None] | None = None) -> list[MaintenanceResult]:
    """Maintain every selected table that declares `maintenance:` and is built. `vacuum`
    overrides the declared vacuum retention (never below the declared time travel: refused
    before any table is touched)."""
    graph = graph or load_graph(project)
    nodes = declared(graph, selector)
    works = {node.ref: work_of(node, vacuum) for node in nodes}
    if project.config.governance is not None:  # rewriting files takes MODIFY on the table
        from afluente.governance.reader import require_modify

        require_modify(project, [n.ref for n in nodes])
    warehouse = Warehouse(project.warehouse_uri)
    holder = f"maintain-{run_id or new_run_id()}"
    results = []
    with StateStore.open(project.state_url) as state:
        for node in nodes:
            if not warehouse.exists(node.ref):
                continue
            if on_table is not None:
                on_table(str(node.ref))
            results.append(_maintain_one(project, state, warehouse, node, works[node.ref],
                                         holder, wait))
    return results


def work_of(node: Node, vacuum: timedelta | None = None) -> MaintenanceWork:
    """The model's `maintenance:` as storage work; a `vacuum` override below its time
    travel is refused."""
    spec = node.config.maintenance
    assert spec is not None
    if vacuum is not None and vacuum < spec.time_travel:
        raise ConfigError(
            f"`{node.ref}`: a vacuum retention of {describe_span(vacuum)} is below its "
            f"declared time travel of {describe_span(spec.time_travel)} (maintenance: "
            f"time_travel:); versions within it would lose their files",
            location=node.location,
            hint=f"vacuum with at least {describe_span(spec.time_travel)}, or lower "
                 "`maintenance: time_travel:` of the model first")
    return MaintenanceWork(compact=spec.compact, z_order=spec.z_order,
                           target_size=spec.target_file_size, time_travel=spec.time_travel,
                           vacuum_after=vacuum or spec.vacuum_after,
                           checkpoint=spec.checkpoint)


def _maintain_one(project: Project, state: StateStore, warehouse: Warehouse, node: Node,
                  work: MaintenanceWork, holder: str, wait: timedelta | None
                  ) -> MaintenanceResult:
    from afluente.state.locks import acquire_locks, release_locks

    ref = str(node.ref)

    def waiting(blocker: Any) -> None:
        log.warning("maintenance of %s waits for %s to release %s", ref, blocker.describe(),
                    blocker.name)
        state.emit(Event(type="lock_wait", model=ref, level="warning",
                         payload={"lock": blocker.name, "holder": blocker.holder}))

    acquire_locks(state, [f"table:{ref}"], holder,
                  wait=project.config.run.lock_timeout if wait is None else wait,
                  on_wait=waiting)
    try:
        probe = _probe(warehouse, node)
        done = maintain_table(warehouse.uri(node.ref), work, ref,
                              vacuum_floor=oldest_reader(state), probe=probe,
                              storage_options=warehouse.storage_options)
    finally:
        release_locks(state, holder)
    result = MaintenanceResult(ref, done, probe)
    state.emit(Event(type="maintenance", model=ref, payload=result.as_json()))
    return result


def _probe(warehouse: Warehouse, node: Node) -> Probe | None:
    """Filter on the first Z-order column, else the table's first column."""
    spec: MaintenanceSpec | None = node.config.maintenance
    schema = warehouse.schema(node.ref)
    if spec is None or schema is None or not schema.names:
        return None
    if spec.z_order and spec.z_order[0] not in schema.names:
        return None  # the maintenance refuses the column, naming it
    column = spec.z_order[0] if spec.z_order else schema.names[0]
    value = probe_value(warehouse.uri(node.ref), column, warehouse.storage_options)
    return None if value is None else Probe(column, value)


def oldest_reader(state: StateStore) -> timedelta:
    """How long the oldest live run has been running (zero when none runs)."""
    from afluente.state.locks import live_runs

    started = [state.get_run(run_id).started_at for run_id in live_runs(state)]
    return utc_now() - min(started) if started else timedelta(0)


def _figures(footprint: Footprint) -> dict[str, Any]:
    return {"version": footprint.version, "files": footprint.files, "bytes": footprint.bytes,
            "files_matching": footprint.files_matching, "query_s": footprint.query_s,
            "rows_matching": footprint.rows_matching}


__all__ = ["MaintenanceResult", "declared", "maintain_tables", "oldest_reader", "work_of"]
