"""Which afluente table a Beam transform names, and reading one of its data files: the
afluente side of the Beam I/O (no Beam here, so it can be tested and reused alone)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from afluente.config import Project, load_project
from afluente.errors import ModelError, TableNotFoundError
from afluente.model import Graph, Node, TableRef, load_graph
from afluente.storage import Warehouse


def resolve(project: Project, graph: Graph, table: str, *, writing: bool = False,
            create: bool = False) -> tuple[TableRef, Node | None]:
    """`layer.table` → its ref and its declared node (None: a stored table no model
    declares); an unknown name is refused with the closest known ones, unless `create`
    (a new table the caller means to write)."""
    warehouse = Warehouse(project.warehouse_uri)
    known = {str(r): r for r in graph.nodes} | {str(r): r for r in stored_tables(warehouse)}
    try:
        ref: TableRef | None = TableRef.parse(table)
    except ModelError:  # not `layer.table`: refused below with the closest names
        ref = None
    if ref is not None and (str(ref) in known or create):
        return ref, graph.nodes.get(ref)
    close = difflib.get_close_matches(table, sorted(known), n=3, cutoff=0.5)
    hint = ("did you mean " + " or ".join(f"`{c}`" for c in close) + "?") if close else (
        "known tables: " + ", ".join(sorted(known)[:20]))
    raise TableNotFoundError(
        f"unknown table `{table}` in project {project.root} (neither declared by a model "
        "or source nor stored in the warehouse)", table=table,
        hint=hint + (" (to write a new table, pass create=True)" if writing else ""))


def stored_tables(warehouse: Warehouse) -> list[TableRef]:
    """The tables of a local warehouse (`<layer>/<table>/_delta_log`)."""
    if not warehouse.is_local:
        return []
    root = Path(warehouse.root.removeprefix("file://"))
    logs = sorted(root.glob("*/*/_delta_log"))
    return [TableRef(log.parent.parent.name, log.parent.name) for log in logs
            if not log.parent.parent.name.startswith("_")]  # _staging, _damaged


@dataclass(frozen=True)
class ReadPlan:
    """One pinned version of one table, and its data files (the unit a worker reads)."""

    project: str  # the project folder
    table: str
    version: int
    files: tuple[str, ...]
    columns: tuple[str, ...] | None = None
    filter: pc.Expression | None = None


def plan_read(project_dir: str, table: str, version: int | None,
              columns: tuple[str, ...] | None, filter: pc.Expression | None) -> ReadPlan:
    """Resolve `table` and pin its version (the newest when None): every file a worker reads
    belongs to that one version, whenever it is read."""
    project = load_project(project_dir)
    ref, _node = resolve(project, load_graph(project), table)
    warehouse = Warehouse(project.warehouse_uri)
    loaded = warehouse.open(ref, version)
    pinned = loaded.version()
    dataset = warehouse.readable(ref, loaded)
    files = tuple(f.path for f in dataset.get_fragments())
    if columns is not None:
        unknown = [c for c in columns if c not in dataset.schema.names]
        if unknown:
            raise TableNotFoundError(
                f"`{ref}` has no column {', '.join(unknown)}", table=str(ref),
                hint="its columns: " + ", ".join(dataset.schema.names))
    return ReadPlan(str(project.root), str(ref), pinned, files, columns, filter)


class FileReader:
    """Reads the files of a `ReadPlan` in a worker, through the governed reader when the
    project declares governance (masks, hidden columns and row filters of the principal the
    worker runs as: `AFLUENTE_TOKEN` or the OS user)."""

    def __init__(self, plan: ReadPlan) -> None:
        from afluente.governance.reader import GovernedReader

        self.plan = plan
        self.project = load_project(plan.project)
        self.ref = TableRef.parse(plan.table)
        self.reader = GovernedReader.open(self.project)
        self.warehouse = Warehouse(self.project.warehouse_uri)
        self.dataset = self.warehouse.dataset(self.ref, plan.version)
        self.fragments = {f.path: f for f in self.dataset.get_fragments()}

    def read(self, path: str) -> pa.Table:
        """The rows of one data file the caller may see (its partition values included)."""
        one = pads.FileSystemDataset(
            [self.fragments[path]], schema=self.dataset.schema,
            format=self.dataset.format, filesystem=self.dataset.filesystem)
        plan = self.plan
        columns = list(plan.columns) if plan.columns is not None else None
        if self.reader.unrestricted:
            return one.to_table(columns=columns, filter=plan.filter)
        from afluente.governance.scan import governed_table

        seen = governed_table(self.project, self.reader, self.ref, one)
        table = one.to_table() if seen is None else seen
        if plan.filter is not None:  # on what the caller sees: a hidden column cannot filter
            table = table.filter(plan.filter)
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        return table

    def rows(self, path: str) -> Iterator[dict[str, Any]]:
        """`read` as one dict per row."""
        for batch in self.read(path).to_batches():
            yield from batch.to_pylist()
