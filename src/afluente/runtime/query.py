"""Read-only SQL over every table of the project (as `layer.table`) and afluente's own
tables (`afluente.runs`, `afluente.model_runs`, `afluente.events`,
`afluente.quality_results`)."""

from __future__ import annotations

import logging
import re

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from afluente.config import Project
from afluente.engines import Engine, create_engine
from afluente.errors import EngineError, StateError
from afluente.model import Graph, TableRef, load_graph
from afluente.runtime.incremental_views import attach_stored
from afluente.state import StateStore, StateTable
from afluente.storage import Warehouse

STATE_TABLES: tuple[StateTable, ...] = ("runs", "model_runs", "events", "quality_results")
_READ_ONLY_KEYWORDS = ("describe", "summarize", "show")
_MENTIONS_STATE = re.compile(r"\bafluente\s*\.", re.IGNORECASE)

log = logging.getLogger("afluente.query")


def query_project(project: Project, sql: str) -> pa.Table:
    """Run `sql` (one read-only statement) over the project's tables and event log."""
    check_read_only(sql)
    graph = load_graph(project)
    engine = create_engine(
        project.config.engine.type, project.config.engine.threads, variables=project.config.vars
    )
    try:
        attach_tables(engine, project, graph)
        _attach_state_unless_broken(engine, project, sql)
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
    """Every table of the project and afluente's own tables (the state store must open)."""
    attach_tables(engine, project, graph)
    attach_state(engine, project)


def attach_tables(engine: Engine, project: Project, graph: Graph) -> None:
    """The built tables (latest version), their quarantines, and the SQL views."""
    warehouse = Warehouse(project.warehouse_uri)
    for ref in graph.order:
        node = graph[ref]
        if node.materialized and warehouse.exists(ref):
            attach_stored(engine, node, warehouse.dataset(ref))  # apply_changes: visible rows
        quarantine = TableRef(ref.layer, f"{ref.name}__quarantine")  # docs/quality.md
        if node.config.expectations and warehouse.exists(quarantine):
            engine.attach_table(quarantine, warehouse.dataset(quarantine))
    for ref in graph.order:
        node = graph[ref]
        if node.kind == "view" and node.sql is not None:
            engine.attach_view(ref, node.sql, node.location)


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
