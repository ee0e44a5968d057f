"""Read-only SQL over every table of the project (as `layer.table`) and afluente's own
tables (`afluente.runs`, `afluente.model_runs`, `afluente.events`,
`afluente.quality_results`)."""

from __future__ import annotations

import logging
import re

import pyarrow as pa

from afluente.config import Project
from afluente.connectors.files.glob_root import glob_root
from afluente.engines import Engine, project_engine
from afluente.errors import DamagedTableError, StateError
from afluente.model import Graph, TableRef, load_graph
from afluente.runtime.incremental_views import attach_stored
from afluente.runtime.quality_step import checked_view_sql
from afluente.runtime.quarantine import quarantine_ref
from afluente.state import StateStore, StateTable
from afluente.storage import Warehouse

STATE_TABLES: tuple[StateTable, ...] = ("runs", "model_runs", "events", "quality_results")
_MENTIONS_STATE = re.compile(r"\bafluente\s*\.", re.IGNORECASE)

log = logging.getLogger("afluente.query")


def query_project(project: Project, sql: str) -> pa.Table:
    """Run `sql` (one read-only statement) over the project's tables and event log, on an
    engine that can read files only under the warehouse and the landing folders and can
    write nothing (docs/architecture.md, "Ad-hoc queries")."""
    graph = load_graph(project)
    engine = project_engine(project)
    try:
        damaged = attach_tables(engine, project, graph)
        _refuse_damaged(sql, damaged)
        _attach_state_unless_broken(engine, project, sql)
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
    """Every table of the project and afluente's own tables (the state store must open);
    the damaged tables are left out and returned."""
    damaged = attach_tables(engine, project, graph)
    attach_state(engine, project)
    return damaged


def attach_tables(
    engine: Engine, project: Project, graph: Graph
) -> dict[TableRef, DamagedTableError]:
    """The built tables (latest version), their quarantines, and the SQL views; the damaged
    tables are left out and returned."""
    warehouse = Warehouse(project.warehouse_uri)
    damaged: dict[TableRef, DamagedTableError] = {}
    for ref in graph.order:
        node = graph[ref]
        if node.materialized and warehouse.exists(ref):
            try:  # apply_changes: visible rows
                attach_stored(engine, node, warehouse.dataset(ref))
            except DamagedTableError as damage:
                damaged[ref] = damage
        quarantine = quarantine_ref(ref)  # docs/quality.md
        if warehouse.exists(quarantine):
            engine.attach_table(quarantine, warehouse.dataset(quarantine))
    for ref in graph.order:
        node = graph[ref]
        if not node.materialized and node.sql is not None:
            sql = checked_view_sql(node, node.sql) if node.config.expectations else node.sql
            engine.attach_view(ref, sql, node.location)
    return damaged


def attach_state(engine: Engine, project: Project) -> None:
    """`afluente.runs`, `afluente.model_runs`, ... from the state store."""
    state = StateStore.open(project.state_url)
    try:
        for name in STATE_TABLES:
            engine.attach_table(TableRef("afluente", name), state.to_arrow(name))
    finally:
        state.close()
    attach_observability(engine, project)


def _attach_state_unless_broken(engine: Engine, project: Project, sql: str) -> None:
    """A state store that cannot be opened (damaged, unreachable) fails only the queries
    that read `afluente.*`; the data tables do not depend on it."""
    try:
        attach_state(engine, project)
    except StateError as error:
        read = state_tables_read(sql)
        if read:
            raise StateError(f"the query reads {', '.join(read)}, but {error.message}",
                             hint=error.hint) from error
        log.warning("afluente.* tables are not available: %s", error.message)


def state_tables_read(sql: str) -> list[str]:
    """The `afluente.*` tables `sql` names (when it does not parse: whether it mentions any)."""
    import sqlglot  # only when the state store is broken: short queries need no parser
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        tables = [t for s in sqlglot.parse(sql, dialect="duckdb") if s is not None
                  for t in s.find_all(exp.Table)]
    except ParseError:
        return ["afluente.*"] if _MENTIONS_STATE.search(sql) else []
    return sorted({f"afluente.{t.name}" for t in tables if t.db.lower() == "afluente"})


def attach_observability(engine: Engine, project: Project) -> None:
    """`afluente.model_metrics` and `afluente.incidents` (see docs/observability.md)."""
    from afluente.state.observability import OBSERVABILITY_TABLES, ObservabilityStore

    with ObservabilityStore.open(project.state_url) as store:
        for name in OBSERVABILITY_TABLES:
            engine.attach_table(TableRef("afluente", name), store.observability_arrow(name))
