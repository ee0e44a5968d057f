"""Read-only SQL over every table of the project (as `layer.table`) and afluente's own
tables (`afluente.runs`, `afluente.model_runs`, `afluente.events`,
`afluente.quality_results`).

A query attaches only the tables its statement reads (DuckDB's binder names them, see
`engines.duckdb_readonly.tables_read`), with the upstream of the views among them, and opens
the state store only when it reads `afluente.*`: `select count(*) from gold.orders` opens
one Delta log, not the project's every table. When the names do not settle it (a catalog
query such as `SHOW TABLES`, a name that is no table of the project) everything is attached,
so what a query can see never depends on this shortcut.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from afluente.config import Project
from afluente.engines import Engine, project_engine
from afluente.errors import DamagedTableError, EngineError, StateError
from afluente.model import Graph, Node, TableRef, load_graph

if TYPE_CHECKING:
    import pyarrow as pa

    from afluente.engines.query_rows import QueryRows
    from afluente.governance.reader import GovernedReader
    from afluente.state import StateTable

STATE_TABLES: tuple[StateTable, ...] = ("runs", "model_runs", "events", "quality_results")
#: afluente.* names a query may read (a test checks them against state/observability.py).
STATE_NAMES = frozenset(
    f"afluente.{name}" for name in (*STATE_TABLES, "model_metrics", "incidents")
)
_MENTIONS_STATE = re.compile(r"\bafluente\s*\.", re.IGNORECASE)

log = logging.getLogger("afluente.query")
T = TypeVar("T")


def query_project(project: Project, sql: str) -> pa.Table:
    """Run `sql` (one read-only statement) over the project's tables and event log, on an
    engine that can read files only under the warehouse and the landing folders and can
    write nothing (docs/architecture.md, "Ad-hoc queries")."""
    return _read_only(project, sql, lambda engine, text, folders:
                      engine.read_only_query(text, folders))


def query_rows(project: Project, sql: str, reader: GovernedReader | None = None) -> QueryRows:
    """`query_project`'s result as Python values, what `afluente query` prints: on DuckDB a
    statement that reads no table (`select 1`) then loads no Arrow at all. `reader`: whose
    read it is (default: whoever runs this process)."""
    return _read_only(project, sql, lambda engine, text, folders:
                      engine.read_only_rows(text, folders), reader)


def _read_only(project: Project, sql: str, fetch: Callable[[Engine, str, list[str]], T],
               reader: GovernedReader | None = None) -> T:
    """Attach what `sql` reads, let the governed reader rewrite it (grants, masks, row
    filters; docs/governance.md) and run it."""
    from afluente.governance.reader import GovernedReader
    from afluente.runtime.encryption import decrypting

    reader = reader or GovernedReader.open(project)
    engine = decrypting(project_engine(project), project)
    try:
        wanted = _attach_project_tables(engine, project, sql)
        if wanted is None or wanted.state:
            _attach_state_unless_broken(engine, project, sql)
        governed = reader.rewrite(sql, lambda ref: table_columns(engine, ref))
        return fetch(engine, governed, reader.readable(readable_folders(project)))
    finally:
        engine.close()


def table_columns(engine: Engine, ref: TableRef) -> list[str] | None:
    """The columns of an attached table (None when no such table is attached)."""
    try:
        return list(engine.describe_query(f'SELECT * FROM "{ref.layer}"."{ref.name}"'))
    except EngineError:
        return None


def _attach_project_tables(engine: Engine, project: Project, sql: str) -> Wanted | None:
    """Attach the project's tables `sql` reads (all of them when that is not known); a
    statement that reads none (`select 1`, `afluente.*` only) does not load the models."""
    names = _names_read(engine, sql)
    if names is not None and names <= STATE_NAMES:
        return Wanted(set(), state=bool(names))
    graph = load_graph(project)
    wanted = tables_wanted(graph, names)
    damaged = attach_tables(engine, project, graph, wanted.tables if wanted else None)
    _refuse_damaged(sql, damaged)
    return wanted


def _names_read(engine: Engine, sql: str) -> set[str] | None:
    """The tables `sql` reads, on the DuckDB engine (another engine attaches everything);
    a statement the engine would refuse is refused here already."""
    if engine.name != "duckdb":
        return None
    from afluente.engines.duckdb_readonly import tables_read

    return tables_read(sql)


@dataclass(frozen=True)
class Wanted:
    """What one query reads: project tables (views with their upstream), and whether it
    reads afluente's own tables."""

    tables: set[TableRef]
    state: bool


def tables_wanted(graph: Graph, names: Set[str] | None) -> Wanted | None:
    """The tables to attach for a statement reading `names` (lower-case `layer.table`);
    None (attach all) when a name is none of the project's tables or afluente's."""
    if names is None:
        return None
    known = _attachable_names(graph)
    if any(name not in known and name not in STATE_NAMES for name in names):
        return None
    tables = {known[name] for name in names if name in known}
    views = [ref for ref in tables if not graph[ref].materialized]
    while views:  # a view reads its upstream when queried
        for upstream in graph[views.pop()].upstream:
            if upstream not in tables:
                tables.add(upstream)
                if not graph[upstream].materialized:
                    views.append(upstream)
    return Wanted(tables, state=bool(names & STATE_NAMES))


def _attachable_names(graph: Graph) -> dict[str, TableRef]:
    """Every name `attach_tables` may define, to the table that defines it."""
    from afluente.runtime.quarantine_names import final_ref, late_ref, quarantine_ref

    known: dict[str, TableRef] = {}
    for ref in graph.order:
        storage = TableRef(ref.layer, f"{ref.name}__cdc_storage")  # incremental_views.py
        for name in (ref, quarantine_ref(ref), late_ref(ref), final_ref(ref), storage):
            known[str(name).lower()] = ref
    return known


def readable_folders(project: Project) -> list[str]:
    """The local folders `afluente query` may read files under: the warehouse and each files
    source's landing folder."""
    from afluente.connectors.files.glob_root import glob_root

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
    engine: Engine, project: Project, graph: Graph, only: Set[TableRef] | None = None
) -> dict[TableRef, DamagedTableError]:
    """The built tables (latest version), their quarantines, and the SQL views (`only`
    these tables, when given); the damaged tables are left out and returned."""
    order = [ref for ref in graph.order if only is None or ref in only]
    if not order:
        return {}
    from afluente.runtime.incremental_views import attach_stored
    from afluente.runtime.quarantine_names import final_ref, late_ref, quarantine_ref
    from afluente.storage import Warehouse

    warehouse = Warehouse(project.warehouse_uri)
    damaged: dict[TableRef, DamagedTableError] = {}
    for ref in order:
        node = graph[ref]
        if node.materialized and warehouse.exists(ref):
            try:  # apply_changes: visible rows
                attach_stored(engine, node, warehouse.dataset(ref))
            except DamagedTableError as damage:
                damaged[ref] = damage
        for beside in (quarantine_ref(ref), late_ref(ref), final_ref(ref)):  # streaming.md
            if warehouse.exists(beside):
                engine.attach_table(beside, warehouse.dataset(beside))
    for ref in order:
        node = graph[ref]
        if not node.materialized and node.sql is not None:
            sql = _checked(node, node.sql) if node.config.expectations else node.sql
            engine.attach_view(ref, sql, node.location)
    return damaged


def _checked(node: Node, sql: str) -> str:
    from afluente.runtime.quality_step import checked_view_sql

    return checked_view_sql(node, sql)


def attach_state(engine: Engine, project: Project) -> None:
    """`afluente.runs`, `afluente.model_runs`, ... from the state store."""
    from afluente.state import StateStore

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
