"""Read-only SQL over every table of the project (as `layer.table`) and afluente's own
tables (`afluente.runs`, `afluente.model_runs`, `afluente.events`,
`afluente.quality_results`)."""

from __future__ import annotations

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from afluente.config import Project
from afluente.engines import Engine, create_engine
from afluente.errors import DamagedTableError, EngineError
from afluente.model import Graph, TableRef, load_graph
from afluente.runtime.incremental_views import attach_stored
from afluente.state import StateStore, StateTable
from afluente.storage import Warehouse

STATE_TABLES: tuple[StateTable, ...] = ("runs", "model_runs", "events", "quality_results")
_READ_ONLY_KEYWORDS = ("describe", "summarize", "show")


def query_project(project: Project, sql: str) -> pa.Table:
    """Run `sql` (one read-only statement) over the project's tables and event log."""
    check_read_only(sql)
    graph = load_graph(project)
    engine = create_engine(
        project.config.engine.type, project.config.engine.threads, variables=project.config.vars
    )
    try:
        damaged = attach_catalog(engine, project, graph)
        _refuse_damaged(sql, damaged)
        return engine.query(sql)
    finally:
        engine.close()


def _refuse_damaged(sql: str, damaged: dict[TableRef, DamagedTableError]) -> None:
    """A query reading a damaged table gets that table's error (the others still read)."""
    if not damaged:
        return
    try:
        statement = sqlglot.parse_one(sql, dialect="duckdb")
    except ParseError:
        return  # DESCRIBE/SHOW forms: DuckDB reports a missing table itself
    named = {f"{t.db}.{t.name}".lower() for t in statement.find_all(exp.Table)}
    for ref, damage in damaged.items():
        if str(ref).lower() in named:
            raise damage


def check_read_only(sql: str) -> None:
    """Refuse anything but one SELECT-like statement."""
    if sql.strip().lower().startswith(_READ_ONLY_KEYWORDS):
        return
    try:
        statements = [s for s in sqlglot.parse(sql, dialect="duckdb") if s is not None]
    except ParseError as exc:
        raise EngineError(f"cannot parse the query: {exc}", hint="check the SQL") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise EngineError(
            "`afluente query` runs one read-only SELECT statement",
            hint="tables are written by `afluente run`, never by ad-hoc SQL",
        )


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
