"""Governed SQL: every table a statement reads is replaced by a subquery that shows only
what the reader may see (masked columns, filtered rows), before the engine runs it.

Pure functions over sqlglot trees: `rewrite_reads` takes the statement and a function that
gives, for a `layer.table`, the SELECT to read it through (None: read as it is).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from afluente.governance.grants import AccessDenied

#: Table functions that read by a name or a query given as text: a governed reader could
#: reach a table past the rewriting with them, so they are refused.
_INDIRECT = frozenset({"query", "query_table", "delta_scan", "iceberg_scan", "read_parquet",
                       "parquet_scan", "read_csv", "read_csv_auto", "read_json",
                       "read_json_auto", "read_text", "read_blob", "glob", "sniff_csv",
                       "parquet_metadata", "parquet_schema", "parquet_file_metadata",
                       "parquet_kv_metadata", "read_ndjson", "read_xlsx"})
_HINT = "a governed reader sends one SELECT over layer.table names"


def parse_statement(sql: str) -> exp.Expr:
    """The one query in `sql` (DuckDB's dialect); other statement forms are refused for a
    governed reader (`SUMMARIZE`, `PRAGMA`, ... could read past the masks)."""
    try:
        statements = [s for s in sqlglot.parse(sql, dialect="duckdb") if s is not None]
    except ParseError as exc:
        raise AccessDenied(f"cannot check the query for governed reading: "
                           f"{str(exc).splitlines()[0]}", hint=_HINT) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query | exp.Describe):
        kind = type(statements[0]).__name__.upper() if len(statements) == 1 else "several"
        raise AccessDenied(f"a governed reader may only run a query, not {kind}", hint=_HINT)
    return statements[0]


def tables_named(tree: exp.Expr) -> set[tuple[str, str]]:
    """(layer, table) of every qualified table the statement names (lower case)."""
    return {(t.db.lower(), t.name.lower()) for t in tree.find_all(exp.Table)
            if t.db and not isinstance(t.this, exp.Func)}


def refuse_indirect_reads(tree: exp.Expr) -> None:
    """Refuse what reads past the `layer.table` names: a table function that reads by name
    or path, and an unqualified name that is not a CTE of the statement (an engine's own
    name for a table, such as Spark's temporary views, or a file path)."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.db and not isinstance(table.this, exp.Func) \
                and table.name.lower() not in ctes:
            raise AccessDenied(f"a governed reader names tables as layer.table, not "
                               f"{table.name!r}", hint=_HINT)
    for node in tree.find_all(exp.Func, exp.Table):
        name = _function_name(node)
        if name in _INDIRECT:
            raise AccessDenied(f"a governed reader may not call {name}(): it reads data "
                               "past the grants and masks", hint=_HINT)


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Table):
        inner = node.this
        return _function_name(inner) if isinstance(inner, exp.Func) else ""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return str(node.sql_name()).lower() if isinstance(node, exp.Func) else ""


def rewrite_reads(tree: exp.Expr, through: Callable[[str, str], str | None]) -> exp.Expr:
    """`tree` with each table `layer.table` for which `through` gives a SELECT replaced by
    that SELECT (keeping the name the statement uses for it)."""

    replaced: set[tuple[str, str]] = set()

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            return _unqualified(node, replaced)
        if not isinstance(node, exp.Table) or not node.db or isinstance(node.this, exp.Func):
            return node
        select = through(node.db.lower(), node.name.lower())
        if select is None:
            return node
        replaced.add((node.db.lower(), node.name.lower()))
        parsed = sqlglot.parse_one(select, dialect="duckdb")
        assert isinstance(parsed, exp.Query)
        if isinstance(node.parent, exp.Describe):
            return parsed  # DESCRIBE SELECT ...
        subquery = parsed.subquery(node.alias or node.name)
        if isinstance(node.args.get("alias"), exp.TableAlias) and node.args["alias"].columns:
            subquery.set("alias", node.args["alias"])
        return subquery

    # tables first (FROM is visited after the projection): then the columns naming them
    tables_done = tree.transform(lambda n: n if isinstance(n, exp.Column) else replace(n))
    return tables_done.transform(lambda n: replace(n) if isinstance(n, exp.Column) else n)


def _unqualified(column: exp.Column, replaced: set[tuple[str, str]]) -> exp.Column:
    """`silver.customers.uf` as `customers.uf` once that table is a subquery named so."""
    if column.args.get("db") and (column.db.lower(), column.table.lower()) in replaced:
        column.set("db", None)
        column.set("catalog", None)
    return column


def column_names(tree: exp.Expr) -> set[str]:
    """Every column name the statement mentions (lower case)."""
    return {c.name.lower() for c in tree.find_all(exp.Column) if c.name}
