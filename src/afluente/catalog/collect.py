"""Gather what the catalog shows: the project's lineage resolved against the stored Delta
schemas, and per table its schema, docs, versions and row count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from afluente.config import Project
from afluente.errors import DamagedTableError
from afluente.lineage import ProjectLineage, project_lineage
from afluente.model import Graph, TableRef
from afluente.storage import Warehouse
from afluente.transform import visible_row_count


def load_lineage(graph: Graph, warehouse: Warehouse) -> ProjectLineage:
    """Lineage with the real column lists of the tables already written."""

    def columns_of(ref: TableRef) -> Sequence[str] | None:
        try:
            schema = warehouse.schema(ref)
        except DamagedTableError:
            return None  # its declared lineage only; the table's page says it is damaged
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
    freshness: dict[str, Any] = field(default_factory=dict)  # last update, age, SLA status
    expectations: list[dict[str, Any]] = field(default_factory=list)  # latest result per rule


def table_facts(
    project: Project, graph: Graph, warehouse: Warehouse, lineage: ProjectLineage,
    column_tags: dict[str, set[str]], quality: Sequence[dict[str, Any]] = (),
    now: datetime | None = None,
) -> list[TableFacts]:
    """Facts of every table of the graph (tables never built have no versions or rows).
    `quality` is the state store's rule results, oldest first: each table shows the latest
    result of each of its rules."""
    now = now or datetime.now(UTC)
    latest: dict[str, dict[str, dict[str, Any]]] = {}
    for result in quality:
        latest.setdefault(str(result["model"]), {})[str(result["rule"])] = result
    found = []
    for ref in graph.order:
        try:
            facts = _facts(graph, warehouse, lineage, column_tags, ref)
            facts.freshness.update(_freshness(project, graph, ref, facts, now))
        except DamagedTableError as error:  # one damaged table: its page says so, no more
            facts = _facts(graph, None, lineage, column_tags, ref)
            facts.freshness.update({"status": "damaged", "detail": error.render()})
        facts.expectations.extend(
            {"rule": r["rule"], "kind": r["kind"], "action": r["action"],
             "passed": bool(r["passed"]), "rows_failed": r["rows_failed"],
             "rows_evaluated": r["rows_evaluated"], "checked_at": str(r["ts"])}
            for r in latest.get(str(ref), {}).values()
        )
        found.append(facts)
    return found


def _freshness(
    project: Project, graph: Graph, ref: TableRef, facts: TableFacts, now: datetime
) -> dict[str, Any]:
    """How long ago the table was last written, against its freshness SLA if it has one."""
    node = graph[ref]
    sla = node.config.freshness
    if node.source_name is not None:
        sla = project.config.sources[node.source_name].freshness or sla
    if not facts.versions:
        return {"status": "not built"}
    updated = datetime.fromisoformat(facts.versions[0]["timestamp"])
    age = now - updated
    found: dict[str, Any] = {"last_updated": updated.isoformat(),
                             "age_hours": round(age.total_seconds() / 3600, 2)}
    if sla is None:
        return {**found, "status": "no SLA"}
    if sla.error_after is not None:
        found["error_after_hours"] = sla.error_after.total_seconds() / 3600
        if age > sla.error_after:
            return {**found, "status": "error"}
    if sla.warn_after is not None:
        found["warn_after_hours"] = sla.warn_after.total_seconds() / 3600
        if age > sla.warn_after:
            return {**found, "status": "warn"}
    return {**found, "status": "fresh"}


def _facts(
    graph: Graph, warehouse: Warehouse | None, lineage: ProjectLineage,
    column_tags: dict[str, set[str]], ref: TableRef,
) -> TableFacts:
    """The table's facts; with no warehouse, only what the project declares."""
    node = graph[ref]
    schema = warehouse.schema(ref) if warehouse is not None else None
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
    if warehouse is not None and schema is not None:
        versions = [{"version": c.version, "timestamp": c.timestamp.isoformat(),
                     "operation": c.operation, "rows_added": c.rows_added, "run_id": c.run_id}
                    for c in warehouse.history(ref, 20)]
        rows = visible_row_count(warehouse.dataset(ref))
    return TableFacts(str(ref), node.language, node.config.description or "",
                      node.config.owner or "", tuple(node.config.tags), columns, versions, rows,
                      str(node.location))
