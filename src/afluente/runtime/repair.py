"""`afluente repair`: get a damaged table back, saying what that costs.

* `rebuild`: the damaged table is moved aside (kept under `<warehouse>/_damaged/`) and
  rebuilt from upstream by a `--full-refresh` run of that table alone.
* `restore`: the table goes back to its last readable version (see
  :mod:`afluente.storage.repair`); the next run rebuilds what came after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from afluente.config import Project
from afluente.errors import DamagedTableError
from afluente.model import Graph, TableRef, load_graph
from afluente.runtime.reporter import Reporter
from afluente.runtime.results import RunResult
from afluente.runtime.runner import new_run_id, run_project
from afluente.storage import Warehouse

RepairMode = Literal["rebuild", "restore"]


@dataclass(frozen=True)
class Repaired:
    """What a repair did: the table's version now, what is gone, where the old files are."""

    table: str
    mode: RepairMode
    version: int | None
    lost: list[str] = field(default_factory=list)
    kept_at: Path | None = None
    run: RunResult | None = None


def diagnose(project: Project, ref: TableRef) -> DamagedTableError | None:
    """The damage `run` would report for the table, or None when it reads."""
    warehouse = Warehouse(project.warehouse_uri)
    try:
        warehouse.last_commit(ref, verify=True)
    except DamagedTableError as damage:
        return damage
    return None


def repair(
    project: Project, ref: TableRef, mode: RepairMode, reporter: Reporter | None = None
) -> Repaired:
    """Repair `ref` while holding its table lock (a run writing it finishes first)."""
    warehouse = Warehouse(project.warehouse_uri)
    graph = load_graph(project)
    if mode == "restore":
        with _table_lock(project, ref):
            restored = warehouse.restore_readable(ref)
        lost = list(restored.lost)
        if restored.rewound and graph[ref].language == "source":
            # the progress recorded by the rewound commits is still in the log
            lost.append(f"the source data those versions ingested: run `afluente run "
                        f"--full-refresh --select {ref}` to ingest it again")
        return Repaired(str(ref), mode, restored.version, lost, restored.kept_at)
    return _rebuild(project, graph, warehouse, ref, reporter)


def _rebuild(
    project: Project, graph: Graph, warehouse: Warehouse, ref: TableRef,
    reporter: Reporter | None,
) -> Repaired:
    with _table_lock(project, ref):  # released before the run takes it again
        kept = warehouse.set_aside(ref) if warehouse.local_dir(ref).exists() else None
    lost = []
    if kept is not None:
        lost.append("the table's earlier versions (time travel before this rebuild)")
    if graph[ref].config.incremental or graph[ref].language == "source":
        lost.append("rows an incremental build had kept that upstream no longer holds")
    result = run_project(project, str(ref), full_refresh=True, reporter=reporter)
    built = next((m for m in result.models if m.ref == ref), None)
    return Repaired(str(ref), "rebuild", built.version if built else None, lost, kept, result)


@contextmanager
def _table_lock(project: Project, ref: TableRef) -> Iterator[None]:
    """The lock a run writing `ref` takes, held by this repair."""
    from afluente.state import StateStore
    from afluente.state.locks import acquire_locks, release_locks

    holder = f"repair-{new_run_id()}"
    with StateStore.open(project.state_url) as state:
        acquire_locks(state, [f"table:{ref}"], holder, wait=project.config.run.lock_timeout)
        try:
            yield
        finally:
            release_locks(state, holder)
