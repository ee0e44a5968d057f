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
from afluente.errors import EngineError
from afluente.model import Graph, TableRef, load_graph
from afluente.runtime.incremental_views import attach_stored
from afluente.runtime.quality_step import checked_view_sql
from afluente.runtime.quarantine import quarantine_ref
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
        attach_catalog(engine, project, graph)
        return engine.query(sql)
    finally:
        engine.close()


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


def attach_catalog(engine: Engine, project: Project, graph: Graph) -> None:
    warehouse = Warehouse(project.warehouse_uri)
    for ref in graph.order:
        node = graph[ref]
        if node.materialized and warehouse.exists(ref):
            attach_stored(engine, node, warehouse.dataset(ref))  # apply_changes: visible rows
        quarantine = quarantine_ref(ref)  # docs/quality.md
        if warehouse.exists(quarantine):
            engine.attach_table(quarantine, warehouse.dataset(quarantine))
    for ref in graph.order:
        node = graph[ref]
        if node.kind == "view" and node.sql is not None:
            sql = checked_view_sql(node, node.sql) if node.config.expectations else node.sql
            engine.attach_view(ref, sql, node.location)
    state = StateStore.open(project.state_url)
    try:
        for name in STATE_TABLES:
            engine.attach_table(TableRef("afluente", name), state.to_arrow(name))
    finally:
        state.close()
    attach_observability(engine, project)


def attach_observability(engine: Engine, project: Project) -> None:
    """`afluente.model_metrics` and `afluente.incidents` (see docs/observability.md)."""
    from afluente.state.observability import OBSERVABILITY_TABLES, ObservabilityStore

    with ObservabilityStore.open(project.state_url) as store:
        for name in OBSERVABILITY_TABLES:
            engine.attach_table(TableRef("afluente", name), store.observability_arrow(name))
