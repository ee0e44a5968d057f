"""Gather what the catalog shows: the project's lineage resolved against the stored Delta
schemas, and per table its schema, docs, versions and row count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from afluente.config import Project
from afluente.lineage import ProjectLineage, project_lineage
from afluente.model import Graph, TableRef
from afluente.storage import Warehouse
from afluente.transform import visible_row_count


def load_lineage(graph: Graph, warehouse: Warehouse) -> ProjectLineage:
    """Lineage with the real column lists of the tables already written."""

    def columns_of(ref: TableRef) -> Sequence[str] | None:
        schema = warehouse.schema(ref)
        return list(schema.names) if schema is not None else None

    return project_lineage(graph, columns_of)


@dataclass(frozen=True)
class TableFacts:
    """One table as the docs site and `catalog search` show it."""

    name: str
    language: str
    description: str
    owner: str
    tags: tuple[str, ...]
    columns: list[dict[str, Any]]  # name, type, description, tags (own and inherited)
    versions: list[dict[str, Any]] = field(default_factory=list)
    rows: int | None = None
    location: str = ""


def table_facts(
    project: Project, graph: Graph, warehouse: Warehouse, lineage: ProjectLineage,
    column_tags: dict[str, set[str]],
) -> list[TableFacts]:
    """Facts of every table of the graph (tables never built have no versions or rows)."""
    del project  # reserved for project-level docs
    return [_facts(graph, warehouse, lineage, column_tags, ref) for ref in graph.order]


def _facts(
    graph: Graph, warehouse: Warehouse, lineage: ProjectLineage,
    column_tags: dict[str, set[str]], ref: TableRef,
) -> TableFacts:
    node = graph[ref]
    schema = warehouse.schema(ref)
    types = {f.name: str(f.type) for f in schema} if schema is not None else {}
    names = list(types) or list(lineage.datasets[str(ref)].dataset.columns)
    docs = node.config.columns
    columns = [{
        "name": name, "type": types.get(name, ""),
        "description": (docs[name].description if name in docs else None) or "",
        "tags": sorted(column_tags.get(f"{ref}.{name}", set())),
    } for name in names]
    versions: list[dict[str, Any]] = []
    rows = None
    if schema is not None:
        versions = [{"version": c.version, "timestamp": c.timestamp.isoformat(),
                     "operation": c.operation, "rows_added": c.rows_added, "run_id": c.run_id}
                    for c in warehouse.history(ref, 20)]
        rows = visible_row_count(warehouse.dataset(ref))
    return TableFacts(str(ref), node.language, node.config.description or "",
                      node.config.owner or "", tuple(node.config.tags), columns, versions, rows,
                      str(node.location))
