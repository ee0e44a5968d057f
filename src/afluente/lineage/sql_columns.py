"""Column lineage of one SQL query with sqlglot: which source columns feed each output column,
and how (identity, transformation, aggregation), plus the columns that filter, join or group
the rows (indirect). A pure function of the query text and the input tables' columns; DuckDB
shorthand (PIVOT, GROUP BY ALL) is spelled out first (`sql_shorthand`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.lineage import Node, to_node
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import MappingSchema

from afluente.lineage.model import KIND_RANK, ColumnEdge, ColumnKey, EdgeKind
from afluente.lineage.sql_shorthand import expand_shorthand

DIALECT = "duckdb"
Columns = Mapping[str, Sequence[str]]  # "layer.table" -> column names
_INDIRECT_CLAUSES = (("where", "filter"), ("group", "group by"), ("having", "filter"),
                     ("qualify", "filter"))
# Functions whose output does not reveal their input's values: hashes, and counting.
_MASKING = frozenset({"md5", "md5_number", "md5_number_lower", "md5_number_upper", "sha", "sha1",
                      "sha2", "sha256", "sha512", "hash", "crc32", "count"})
_MASKING_PREFIXES = ("xxhash", "murmurhash")
Leaf = tuple[ColumnKey, EdgeKind, str, bool]  # column, strongest kind, its detail, masked


class UnresolvedSql(Exception):
    """sqlglot could not resolve the query; the caller falls back to table-level lineage."""

    def __init__(self, construct: str) -> None:
        super().__init__(construct)
        self.construct = construct


@dataclass(frozen=True)
class QueryLineage:
    columns: tuple[str, ...]
    edges: tuple[ColumnEdge, ...]
    indirect: tuple[ColumnEdge, ...]


def query_lineage(sql: str, target: str, inputs: Columns) -> QueryLineage:
    """Column lineage of `sql` writing dataset `target`; raises UnresolvedSql."""
    schema = _schema(inputs)
    try:
        parsed = expand_shorthand(sqlglot.parse_one(sql, dialect=DIALECT), inputs)
        query = qualify(parsed, schema=schema, dialect=DIALECT, validate_qualify_columns=True)
    except Exception as exc:  # sqlglot raises many kinds; all mean "cannot resolve"
        raise UnresolvedSql(_construct(exc)) from None
    if not isinstance(query, exp.Query):
        raise UnresolvedSql("not a query")
    root = build_scope(query)
    if root is None:
        raise UnresolvedSql("no scope")
    names = tuple(query.named_selects)
    edges: set[ColumnEdge] = set()
    for name in names:
        try:
            node = to_node(name, root, DIALECT, schema)
        except Exception as exc:
            raise UnresolvedSql(f"column `{name}`: {_construct(exc)}") from None
        edges.update(_column_edges(ColumnKey(target, name), node))
    indirect = {ColumnEdge(ColumnKey(target, "*"), src, "indirect", why)
                for src, why in _indirect_sources(root, schema)}
    return QueryLineage(names, tuple(sorted(edges)), tuple(sorted(indirect)))


def _schema(inputs: Columns) -> MappingSchema:
    mapping: dict[str, object] = {}
    for dataset, columns in inputs.items():
        layer, _, table = dataset.partition(".")
        tables = mapping.setdefault(layer, {})
        assert isinstance(tables, dict)
        tables[table] = {c: "TEXT" for c in columns}
    return MappingSchema(mapping, dialect=DIALECT, normalize=False)


def _construct(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _column_edges(target: ColumnKey, root: Node) -> Iterator[ColumnEdge]:
    """One edge per (leaf table column), with the strongest kind met on the way to it, masked
    when a hash (or count) hid its values on every way it reaches the target."""
    masked: dict[tuple[ColumnKey, EdgeKind, str], bool] = {}
    for leaf, kind, detail, masking in _leaves(root, "identity", "", False):
        masked[leaf, kind, detail] = masked.get((leaf, kind, detail), True) and masking
    for (leaf, kind, detail), masking in masked.items():
        yield ColumnEdge(target, leaf, kind, detail, masking)


def _leaves(node: Node, kind: EdgeKind, detail: str, masking: bool) -> Iterator[Leaf]:
    if isinstance(node.expression, exp.Table):
        yield _leaf_key(node), kind, detail, masking
        return
    masked: set[tuple[str, str]] = set()
    if not isinstance(node.source, exp.SetOperation):
        hop, hop_detail = _classify(node.expression)
        if KIND_RANK[hop] > KIND_RANK[kind]:
            kind, detail = hop, hop_detail
        masked = _masked_columns(node.expression)
    for child in node.downstream:
        yield from _leaves(child, kind, detail, masking or _column_of(child) in masked)


def _masked_columns(projection: exp.Expr) -> set[tuple[str, str]]:
    """The columns (table alias, name) a projection reads only through masking functions."""
    hidden: set[tuple[str, str]] = set()
    shown: set[tuple[str, str]] = set()
    for column in projection.find_all(exp.Column):
        seen = hidden if _under_masking(column, projection) else shown
        seen.add((column.table, column.name))
    return hidden - shown


def _under_masking(node: exp.Expr, projection: exp.Expr) -> bool:
    while node is not projection and node.parent is not None:
        node = node.parent
        if isinstance(node, exp.Func) and _is_masking(_function_name(node)):
            return True
    return False


def _is_masking(function: str) -> bool:
    return function in _MASKING or function.startswith(_MASKING_PREFIXES)


def _column_of(node: Node) -> tuple[str, str]:
    column = exp.to_column(node.name)
    return (column.table, column.name) if isinstance(column, exp.Column) else ("", node.name)


def _leaf_key(node: Node) -> ColumnKey:
    table = node.expression
    assert isinstance(table, exp.Table)
    column = exp.to_column(node.name).name if "." in node.name else node.name
    return ColumnKey(f"{table.db}.{table.name}".lower(), column.strip('"'))


def _classify(projection: exp.Expr) -> tuple[EdgeKind, str]:
    body = projection.unalias() if isinstance(projection, exp.Alias) else projection
    if isinstance(body, exp.Column):
        return "identity", ""
    window = body.find(exp.Window)
    if window is not None:
        return "transformation", f"window {_function_name(window.this)}"
    aggregate = body.find(exp.AggFunc)
    if aggregate is not None:
        return "aggregation", _function_name(aggregate)
    if body.find(exp.Case, exp.If) is not None:
        return "transformation", "case"
    return "transformation", _function_name(body)


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.key.lower()


def _indirect_sources(root: Scope, schema: MappingSchema) -> Iterator[tuple[ColumnKey, str]]:
    for scope in root.traverse():
        select = scope.expression
        if not isinstance(select, exp.Select):
            continue
        for clause, why in _INDIRECT_CLAUSES:
            part = select.args.get(clause)
            if part is not None:
                yield from _resolve_columns(part, scope, schema, why)
        for join in select.args.get("joins") or ():
            on = join.args.get("on")
            if on is not None:
                yield from _resolve_columns(on, scope, schema, "join")


def _resolve_columns(
    part: exp.Expr, scope: Scope, schema: MappingSchema, why: str
) -> Iterator[tuple[ColumnKey, str]]:
    for column in part.find_all(exp.Column):
        source = scope.sources.get(column.table)
        if isinstance(source, exp.Table):
            yield ColumnKey(f"{source.db}.{source.name}".lower(), column.name), why
        elif isinstance(source, Scope):
            try:
                node = to_node(column.name, source, DIALECT, schema)
            except Exception:
                continue
            for leaf, *_how in _leaves(node, "identity", "", False):
                yield leaf, why
