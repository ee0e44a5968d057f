"""The tables of the warehouse that hold personal data, and how their keys link them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from afluente.config import Project
from afluente.errors import DamagedTableError
from afluente.governance.pii_columns import along_lineage, pii_columns
from afluente.governance.pii_kinds import Kind
from afluente.lineage import ProjectLineage, project_lineage
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
        return cls(project, graph, warehouse, project_lineage(graph, columns_of), stored)

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
