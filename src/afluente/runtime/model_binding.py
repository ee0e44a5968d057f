"""`afluente validate` binds every SQL model in DuckDB before anything runs.

Tables are made bindable in dependency order with no rows in them: a SQL model's SQL is bound
as a view over its (already bindable) upstreams and its output becomes an empty table of the
columns it gives (a table, not the view: views of views would be bound again by every
reader, exponentially in the depth of the graph); a source, a Python model or an
apply_changes table contributes the schema of its stored Delta table, or else the columns an
enforced contract declares (`contract: enforced`, a `type` on every column); a source never
ingested, the columns its connector can tell beforehand (a csv/tsv landing zone: its files'
headers, typed by the `columns:` hints; parquet: the footers; json/ndjson: DuckDB's type
sample of each file, as the ingest types them) plus bronze's metadata columns. A misspelt column or
table is then DuckDB's bind error, at the model's line and column, with DuckDB's candidate
names as the hint. A model whose upstream has no known schema yet (a source of another
format never ingested, a Python model never run) is skipped, and said so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from afluente.config import Project
from afluente.connectors import connector_for
from afluente.connectors.protocol import FileScanner
from afluente.engines import Engine, create_engine, engine_settings
from afluente.engines.bronze import METADATA_TYPES
from afluente.engines.duckdb_errors import DEFAULT_HINT
from afluente.engines.duckdb_files import DuckDBFileScanner
from afluente.errors import EngineError, ModelError
from afluente.model import Graph, Node, TableRef
from afluente.runtime.engine_fit import model_engine
from afluente.runtime.incremental_views import attach_stored
from afluente.sql_text import ident as quote
from afluente.sql_text import table as qualified
from afluente.storage import Warehouse

BIND_SCHEMA = "afluente_bind"
FIX_HINT = "fix the model's SQL; nothing was run"


@dataclass
class Binding:
    """Which SQL models bound, and why the others could not be tried."""

    bound: list[TableRef] = field(default_factory=list)
    # model -> the table upstream of it whose schema is unknown (a source not ingested...)
    skipped: dict[TableRef, TableRef] = field(default_factory=dict)
    readable: set[TableRef] = field(default_factory=set)  # tables a reader can bind against


def bind_models(project: Project, graph: Graph) -> Binding:
    """Bind every SQL model whose inputs have a known schema; a bind error is a ModelError."""
    if not any(graph[ref].language == "sql" for ref in graph.order):
        return Binding()
    # each SQL model binds on its own engine (its `engine:`, else the project's), as `run`
    # builds it: a model on Spark binds as Spark SQL (transpiled), the others on DuckDB
    names = {graph[r].ref: model_engine(project, graph[r]) for r in graph.order
             if graph[r].language == "sql"}
    binding = Binding()
    for name in sorted(set(names.values())):
        part = _bind_on(project, graph, name, _engine_is(names, name))
        binding.bound += part.bound
        binding.skipped.update(part.skipped)
        binding.readable |= part.readable
    position = {ref: i for i, ref in enumerate(graph.order)}
    binding.bound.sort(key=position.__getitem__)
    return binding


def _engine_is(names: dict[TableRef, str], name: str) -> Callable[[Node], bool]:
    return lambda node: names.get(node.ref) == name


def _bind_on(project: Project, graph: Graph, name: str, mine: Callable[[Node], bool]
             ) -> Binding:
    # one thread: binding is many tiny statements, which a thread pool only slows down
    settings = engine_settings(project, name)
    if "threads" in type(settings).model_fields:
        settings = settings.model_copy(update={"threads": 1})
    engine = create_engine(settings, project.config.vars)
    try:
        return bind_graph(engine, Warehouse(project.warehouse_uri), graph,
                          lambda node: source_columns(project, node), mine)
    finally:
        engine.close()


@runtime_checkable
class DeclaresColumns(Protocol):
    """A connector that can tell its bronze data columns before anything was ingested."""

    def declared_columns(self, scanner: FileScanner) -> dict[str, str] | None: ...


Declared = Callable[[Node], dict[str, str] | None]  # a source node -> its data columns


def source_columns(project: Project, node: Node) -> dict[str, str] | None:
    """The data columns (DuckDB types) a source's bronze table will have, when its
    connector can tell them without ingesting."""
    if node.source_name is None:
        return None
    connector = connector_for(project, node.source_name)
    if not isinstance(connector, DeclaresColumns):
        return None
    return connector.declared_columns(DuckDBFileScanner())  # the reader `afluente run` uses


def _undeclared(node: Node) -> None:
    return None


def _every(node: Node) -> bool:
    return True


def bind_graph(engine: Engine, warehouse: Warehouse, graph: Graph,
               declared: Declared = _undeclared, mine: Callable[[Node], bool] = _every
               ) -> Binding:
    """Make every table of `graph` bindable (no rows) on `engine`, in dependency order
    (`declared`: the columns of a source never ingested), binding the SQL models `mine`
    selects (another engine binds the others; here they are only their stored schema)."""
    binding = Binding()
    known = binding.readable
    for ref in graph.order:
        node = graph[ref]
        unknown = next((up for up in node.upstream if up not in known), None)
        if node.language == "sql" and unknown is not None:
            if mine(node):
                binding.skipped[ref] = binding.skipped.get(unknown, unknown)
        elif node.language == "sql" and mine(node):
            _bind_sql(engine, node)
            binding.bound.append(ref)
        elif node.language == "sql" and node.table_kind.stores_query_output \
                and not _attached_elsewhere(engine, node):
            continue
        if _bindable(engine, warehouse, node, unknown is None, declared):
            known.add(ref)
    return binding


def _attached_elsewhere(engine: Engine, node: Node) -> bool:
    """A model another engine binds, whose table is its query's output: its columns on this
    engine too, for the models here that read it (False when this engine cannot bind it)."""
    try:
        _bind_sql(engine, node)
    except ModelError:
        return False
    return True


def _bind_sql(engine: Engine, node: Node) -> None:
    """Bind `node`'s SQL: one `CREATE TABLE ... AS <sql> WITH NO DATA` (the columns, no
    execution) for a table of the query's output, else a view. The model's text follows
    the statement's prefix unchanged and the suffix is on a line of its own, so DuckDB's
    `LINE n` is the file's line n and the caret maps as a view's does. A text the suffix
    cannot follow safely (a `;` before its end, a `--` comment on its last line) binds as
    a view and an empty table of it, two statements."""
    assert node.sql is not None
    empty = _no_data(node.sql) if node.table_kind.stores_query_output else None
    try:
        if empty is not None:
            engine.materialize(node.ref, empty, node.location, node.name)
            return
        query = TableRef(BIND_SCHEMA, f"{node.ref.layer}__{node.ref.name}")
        engine.attach_view(query, node.sql, node.location)
        if node.table_kind.stores_query_output:  # a change feed stores more than its query
            empty_of_view = f"SELECT * FROM {qualified(query)} WITH NO DATA"
            engine.materialize(node.ref, empty_of_view, node.location, node.name)
    except EngineError as exc:
        raise ModelError(
            f"`{node.name}` does not bind: {exc.message}",
            location=exc.location, table=node.name, hint=_validate_hint(exc.hint),
        ) from None


def _no_data(sql: str) -> str | None:
    """`sql WITH NO DATA` (the suffix on a line of its own), or None when the suffix could
    end up in a comment or after the statement's end."""
    text = sql.rstrip().removesuffix(";")
    if ";" in text or "--" in text.rsplit("\n", 1)[-1]:
        return None
    return text + "\nWITH NO DATA"


def _validate_hint(run_hint: str | None) -> str:
    """The engine's suggestion, without what a failed run would add about the table."""
    advice = (run_hint or "").removesuffix(DEFAULT_HINT).removesuffix(" — ")
    return f"{advice} — {FIX_HINT}" if advice else FIX_HINT


def _bindable(engine: Engine, warehouse: Warehouse, node: Node, inputs_known: bool,
              declared: Declared) -> bool:
    """Whether readers of `node` can now bind against it (attaching its stored schema
    when its SQL does not give its columns)."""
    if node.language == "sql" and node.table_kind.stores_query_output:
        return inputs_known
    schema = warehouse.schema(node.ref) if node.materialized else None
    if schema is not None:
        attach_stored(engine, node, schema.empty_table())
        return True
    if node.language == "source":
        columns = declared(node)
        return columns is not None and _attach_columns(engine, node,
                                                       {**columns, **METADATA_TYPES})
    return _attach_contract(engine, node)


def _attach_contract(engine: Engine, node: Node) -> bool:
    """An enforced contract is the table's exact output: its typed columns are the schema
    readers bind against before the model ever ran."""
    columns = node.config.columns
    if node.config.contract != "enforced" or not all(c.type for c in columns.values()):
        return False
    return _attach_columns(engine, node, {name: str(c.type) for name, c in columns.items()})


def _attach_columns(engine: Engine, node: Node, columns: dict[str, str]) -> bool:
    """An empty table of `columns` (name -> type) as `node`'s table."""
    selects = ", ".join(f"CAST(NULL AS {kind}) AS {quote(name)}" for name, kind in columns.items())
    try:
        engine.materialize(node.ref, f"SELECT {selects} WITH NO DATA", node.location, node.name)
    except EngineError:
        return False  # a type DuckDB does not know: the run reports it
    return True
