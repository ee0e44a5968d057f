"""The tables of the warehouse that hold personal data, and how their keys link them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from afluente.config import Project
from afluente.errors import DamagedTableError
from afluente.governance.pii_columns import PII_TAG, along_lineage, pii_columns
from afluente.governance.pii_kinds import Kind, kind_of_name
from afluente.lineage import ColumnsOf, ModelLineage, ProjectLineage, update_lineage
from afluente.lineage.propagate import PASSING
from afluente.model import Graph, Node, TableRef, load_graph
from afluente.storage import Warehouse
from afluente.storage.erase import local_tables


@dataclass(frozen=True)
class Holding:
    """One stored table holding personal data: its personal columns by kind."""

    table: str
    uri: str
    pii: dict[str, Kind | None]


@dataclass(frozen=True)
class ProjectView:
    """What erasure, export and classification read: the graph, lineage, stored tables."""

    project: Project
    graph: Graph
    warehouse: Warehouse
    lineage: ProjectLineage
    stored: dict[str, list[str]]  # table → its stored columns

    @classmethod
    def load(cls, project: Project) -> ProjectView:
        graph = load_graph(project)
        warehouse = Warehouse(project.warehouse_uri)

        def columns_of(ref: TableRef) -> Sequence[str] | None:
            try:
                schema = warehouse.schema(ref)
            except DamagedTableError:
                return None
            return list(schema.names) if schema is not None else None

        stored: dict[str, list[str]] = {}
        for name in local_tables(warehouse.root):
            columns = columns_of(TableRef.parse(name))
            if columns is not None:
                stored[name] = list(columns)
        return cls(project, graph, warehouse, pii_lineage(graph, columns_of), stored)

    def holdings(self, extra: Sequence[str] = ()) -> list[Holding]:
        """Every stored table with personal columns (declared, inherited, fed, or named)."""
        found = pii_columns(self.graph, self.lineage, self.stored, extra)
        return [Holding(t, self.warehouse.uri(TableRef.parse(t)), cols)
                for t, cols in sorted(found.items()) if t in self.stored]

    def key_groups(self, tables: Sequence[str]) -> list[set[str]]:
        """One group per declared key of a model among `tables`: every `table.column` that
        copies the key (column lineage; for a Python model, its inputs' columns of the same
        name; quarantine tables with their model). A subject's value in one is theirs in all."""
        groups = []
        for table in tables:
            node = self.graph.nodes.get(TableRef.parse(table.split("__", 1)[0]))
            if node is None:
                continue
            for key in node.config.keys or ():
                linked = along_lineage(self.lineage, {f"{node.ref}.{key}"})
                linked |= {f"{up}.{key}" for up in self._upstream(node)
                           if key in self.stored.get(str(up), ())}
                bases = {x.rpartition(".")[0]: x.rpartition(".")[2] for x in linked}
                linked |= {f"{t}.{bases[t.split('__', 1)[0]]}" for t in self.stored
                           if t.split("__", 1)[0] in bases}
                groups.append(linked)
        return groups

    def _upstream(self, node: Node) -> set[TableRef]:
        """Every table the model reads, directly or not (a Python model's keys have no
        column lineage: its inputs' columns of the same name are taken as the copies)."""
        seen: set[TableRef] = set()
        todo = list(node.upstream)
        while todo:
            ref = todo.pop()
            if ref not in seen:
                seen.add(ref)
                up = self.graph.nodes.get(ref)
                todo.extend(up.upstream if up is not None else ())
        return seen


def pii_lineage(graph: Graph, columns_of: ColumnsOf,
                memo: dict[tuple[object, ...], ModelLineage] | None = None) -> ProjectLineage:
    """Column lineage of the models that can hold personal data: those that tag or name a
    personal column, or whose SQL mentions one of their inputs' personal columns (or takes
    `*`). Parsing every model's lineage costs seconds on a large project; a model that
    never touches such a column cannot copy one, so it is skipped. `memo`: lineages by
    model and the columns it and its inputs had, kept between calls (a run that creates
    tables one by one parses each model again only when its inputs' columns changed)."""
    done: dict[str, ModelLineage] = {}
    personal: dict[str, set[str]] = {}
    for ref in graph.order:
        node = graph[ref]
        own = _personal(node, list(columns_of(ref) or ()))
        inherited = {c for up in node.upstream for c in personal.get(str(up), ())}
        if node.language == "sql" and not own and not _mentions(node.sql or "", inherited):
            continue
        # parsing SQL is the cost (the other nodes are cheap, recomputed): a model is parsed
        # again only when the columns of an input holding personal data changed
        key = (ref, *(
            tuple(columns_of(up) or (done[str(up)].dataset.columns if str(up) in done else ()))
            if personal.get(str(up)) else None for up in node.upstream))
        if memo is not None and node.language == "sql" and key in memo:
            done[str(ref)] = memo[key]
        else:
            update_lineage(node, columns_of, done, warn=False)  # said by `afluente lineage`
            if memo is not None:
                memo[key] = done[str(ref)]
        carried = {e.target.column for e in done[str(ref)].edges
                   if e.kind in PASSING and e.source.column in inherited}
        personal[str(ref)] = own | carried
    return ProjectLineage(done)


def _personal(node: Node, stored: list[str]) -> set[str]:
    """Columns tagged `pii`, or named for an identifier or contact (a bare `name` is as
    often a product's as a person's: only its tag counts here)."""
    declared = {c for c, doc in node.config.columns.items() if PII_TAG in doc.tags}
    return declared | {c for c in stored if kind_of_name(c) not in (None, "name")}


def _mentions(sql: str, columns: set[str]) -> bool:
    if re.search(r"(?is)select\s+(distinct\s+)?\*|\.\*", sql):
        return True
    return any(re.search(rf"(?i)\b{re.escape(c)}\b", sql) for c in columns)
