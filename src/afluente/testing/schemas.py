"""The real column types of an upstream table, so fixtures are typed like production data.

A model's output schema is inferred by running it on empty inputs (its own upstreams
resolved the same way, recursively); a table the warehouse already holds gives its Delta
schema. A source that was never ingested has no schema yet: it stands in as the columns the
reading model refers to (text, or the source's `columns:` hints) plus bronze's metadata
columns. Only reads — the warehouse is never written.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from afluente.config import Project
from afluente.engines import DuckDBSettings, Engine, create_engine
from afluente.engines.frames import model_function
from afluente.model import Graph, Node, TableRef
from afluente.model.model_config import kind_columns

Types = dict[str, str]  # column name → the engine's (DuckDB's) type

BRONZE_METADATA: Types = {
    "_rescued_data": "VARCHAR",
    "_source": "VARCHAR",
    "_ingested_at": "TIMESTAMP WITH TIME ZONE",
    "_run_id": "VARCHAR",
    "_row_hash": "VARCHAR",
}


def referenced_columns(sql: str, ref: TableRef) -> list[str]:
    """The columns of `ref` a SQL model refers to (those sqlglot can attribute to it)."""
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
        found: dict[str, None] = {}
        for scope in traverse_scope(tree):
            for column in scope.columns:
                source = _source_of(column, scope.sources)
                if isinstance(source, exp.Table) and _is(source, ref):
                    found[column.name] = None
        return list(found)
    except (sqlglot.errors.SqlglotError, KeyError, ValueError):
        return []


def _source_of(column: exp.Column, sources: dict[str, Any]) -> Any:
    """The source a column belongs to; an unqualified column belongs to a lone source."""
    if column.table:
        return sources.get(column.table)
    return next(iter(sources.values())) if len(sources) == 1 else None


def _is(table: exp.Table, ref: TableRef) -> bool:
    return table.db.lower() == ref.layer and table.name.lower() == ref.name


class Schemas:
    """Resolves and remembers upstream schemas for one `afluente test` session."""

    def __init__(self, project: Project, graph: Graph) -> None:
        self.project = project
        self.graph = graph
        self._known: dict[TableRef, Types | None] = {}
        self._engine: Engine | None = None  # types of stored tables, made when first needed

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def known(self, ref: TableRef) -> Types | None:
        """The table's real columns: inferred from its model, else from the warehouse."""
        if ref not in self._known:
            self._known[ref] = None  # guards against re-entry while inferring
            node = self.graph[ref]
            inferred = self._infer(node) if node.language != "source" else None
            if inferred is not None:  # SCD2 kinds add their validity columns
                inferred = {**inferred, **kind_columns(node.config, inferred)}
            self._known[ref] = inferred or self._stored(ref)
        return self._known[ref]

    def stand_in(self, ref: TableRef, reader: Node | None) -> Types:
        """A source that has no schema yet: what `reader` refers to, plus bronze metadata."""
        source = self.project.config.sources.get(self.graph[ref].source_name or "")
        hints = dict(source.columns) if source is not None else {}
        metadata = BRONZE_METADATA if source is not None else {}
        names = referenced_columns(reader.sql, ref) if reader and reader.sql else []
        types: Types = {n: hints.get(n, "VARCHAR") for n in names if n not in metadata}
        return {**types, **metadata}

    def _stored(self, ref: TableRef) -> Types | None:
        from afluente.storage import Warehouse

        try:
            schema = Warehouse(self.project.warehouse_uri).schema(ref)
        except Exception:  # an unreadable warehouse only means the schema stays unknown
            return None
        if schema is None:
            return None
        if self._engine is None:
            self._engine = unit_test_engine()
        return self._engine.column_types(schema)

    def _infer(self, node: Node) -> Types | None:
        inputs: dict[TableRef, Types] = {}
        for up in dict.fromkeys(node.upstream):
            types = self.known(up)
            if types is None and self.graph[up].language == "source":
                types = self.stand_in(up, node)
            if types is None:
                return None
            inputs[up] = types
        return _run_empty(node, inputs, self.project.config.vars)


def unit_test_engine(variables: dict[str, Any] | None = None) -> Engine:
    """The engine unit tests run on: a one-thread in-memory DuckDB."""
    return create_engine(DuckDBSettings(threads=1), variables)


def _run_empty(
    node: Node, inputs: dict[TableRef, Types], variables: dict[str, Any]
) -> Types | None:
    engine = unit_test_engine(variables)
    try:
        for ref, types in inputs.items():
            engine.attach_table(ref, empty_table(types, engine))
        if node.language == "python":
            assert node.function is not None
            stream = engine.run_python(model_function(node), node.upstream, node.keywords,
                                       node.location, node.name)
        else:
            assert node.sql is not None
            stream = engine.run_sql(node.sql, node.location, node.name)
        return engine.column_types(stream.reader.read_all().schema)
    except Exception:  # a model that cannot run on empty inputs: types come from fixtures
        return None
    finally:
        engine.close()


def empty_table(types: Types, engine: Engine) -> pa.Table:
    """An empty Arrow table with the engine's typed columns."""
    text = pa.table({name: pa.array([], pa.string()) for name in types})
    return engine.cast_text(text, types)
