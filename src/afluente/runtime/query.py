"""Read-only SQL over every table of the project (as `layer.table`) and afluente's own
tables (`afluente.runs`, `afluente.model_runs`, `afluente.events`,
`afluente.quality_results`)."""

from __future__ import annotations

import pyarrow as pa

from afluente.config import Project
from afluente.connectors.files.glob_root import glob_root
from afluente.engines import Engine, project_engine
from afluente.errors import DamagedTableError
from afluente.model import Graph, TableRef, load_graph
from afluente.runtime.incremental_views import attach_stored
from afluente.state import StateStore, StateTable
from afluente.storage import Warehouse

STATE_TABLES: tuple[StateTable, ...] = ("runs", "model_runs", "events", "quality_results")


def query_project(project: Project, sql: str) -> pa.Table:
    """Run `sql` (one read-only statement) over the project's tables and event log, on an
    engine that can read files only under the warehouse and the landing folders and can
    write nothing (docs/architecture.md, "Ad-hoc queries")."""
    graph = load_graph(project)
    engine = project_engine(project)
    try:
        damaged = attach_catalog(engine, project, graph)
        _refuse_damaged(sql, damaged)
        return engine.read_only_query(sql, readable_folders(project))
    finally:
        engine.close()


def readable_folders(project: Project) -> list[str]:
    """The local folders `afluente query` may read files under: the warehouse and each files
    source's landing folder."""
    folders = [] if "://" in project.warehouse_uri else [project.warehouse_uri]
    for spec in project.config.sources.values():
        path = spec.extra.get("path") if spec.type == "files" else None
        folder = glob_root(str(path), project.root) if path else None
        if folder is not None and str(folder) not in folders:
            folders.append(str(folder))
    return folders


def _refuse_damaged(sql: str, damaged: dict[TableRef, DamagedTableError]) -> None:
    """A query reading a damaged table gets that table's error (the others still read)."""
    if not damaged:
        return
    import sqlglot  # only when a table is damaged: short queries need no parser
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        statement = sqlglot.parse_one(sql, dialect="duckdb")
    except ParseError:
        return  # DESCRIBE/SHOW forms: DuckDB reports a missing table itself
    named = {f"{t.db}.{t.name}".lower() for t in statement.find_all(exp.Table)}
    for ref, damage in damaged.items():
        if str(ref).lower() in named:
            raise damage


def attach_catalog(
    engine: Engine, project: Project, graph: Graph
) -> dict[TableRef, DamagedTableError]:
    """Attach every built table, view and state table; the damaged tables, left out."""
    warehouse = Warehouse(project.warehouse_uri)
    damaged: dict[TableRef, DamagedTableError] = {}
    for ref in graph.order:
        node = graph[ref]
        if node.materialized and warehouse.exists(ref):
            try:  # apply_changes: visible rows
                attach_stored(engine, node, warehouse.dataset(ref))
            except DamagedTableError as damage:
                damaged[ref] = damage
        quarantine = TableRef(ref.layer, f"{ref.name}__quarantine")  # docs/quality.md
        if node.config.expectations and warehouse.exists(quarantine):
            engine.attach_table(quarantine, warehouse.dataset(quarantine))
    for ref in graph.order:
        node = graph[ref]
        if node.kind == "view" and node.sql is not None:
            engine.attach_view(ref, node.sql, node.location)
    state = StateStore.open(project.state_url)
    try:
        for name in STATE_TABLES:
            engine.attach_table(TableRef("afluente", name), state.to_arrow(name))
    finally:
        state.close()
    attach_observability(engine, project)
    return damaged


def attach_observability(engine: Engine, project: Project) -> None:
    """`afluente.model_metrics` and `afluente.incidents` (see docs/observability.md)."""
    from afluente.state.observability import OBSERVABILITY_TABLES, ObservabilityStore

    with ObservabilityStore.open(project.state_url) as store:
        for name in OBSERVABILITY_TABLES:
            engine.attach_table(TableRef("afluente", name), store.observability_arrow(name))
