"""Models' SQL (DuckDB's dialect) rewritten for Spark SQL with sqlglot.

Four rewrites on the parsed tree, then Spark SQL text:

- `layer.table` names the temporary view the engine registered for that table (Spark's
  temporary views cannot live in a schema); the table keeps its name as its alias, so
  `orders.amount` still resolves;
- `getvariable('name')` becomes the project var's value as a literal (NULL when unset, as in
  DuckDB);
- `to_json(x)` keeps NULL fields (`{"a":null}`), as DuckDB's does;
- DuckDB-only constructs sqlglot would pass through unchanged (ASOF and POSITIONAL joins,
  `COLUMNS(...)`, the short `PIVOT` statement) and anything sqlglot reports as unsupported
  are an `EngineError` naming the construct and its line in the model file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from afluente.engines.spark_functions import json_or_text, rewrite_function
from afluente.errors import EngineError, Location

READ = "duckdb"
WRITE = "spark"
UNSUPPORTED_HINT = (
    "rewrite it with portable SQL (joins, window functions, CASE), or run this model on "
    "DuckDB"
)


@dataclass(frozen=True)
class Names:
    """The engine's registered tables: (layer, table) → Spark temporary view name."""

    views: Mapping[tuple[str, str], str]
    variables: Mapping[str, Any]


def to_spark(sql: str, names: Names, origin: Location, table: str) -> str:
    """`sql` as one Spark SQL statement, or an EngineError pointing into `origin`."""
    tree = parse_one(sql, origin, table)
    return generate(rewrite(tree, names), sql, origin, table)


def parse_one(sql: str, origin: Location, table: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(sql, read=READ) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line = first.get("line")
        raise EngineError(
            f"cannot parse the SQL: {_tidy(str(first.get('description') or exc))}",
            location=_in_file(origin, sql, line, first.get("col")),
            table=table, hint="fix the model's SQL; the table keeps its previous version",
        ) from None
    if len(statements) != 1:
        raise EngineError(f"a model is one SQL statement; got {len(statements)}",
                          location=origin, table=table, hint="remove the extra statements")
    return statements[0]


def _tidy(description: str) -> str:
    """sqlglot's `<Token token_type: ..., text: where, ...>` as `where`."""
    return _TOKEN.sub(lambda m: f"`{m.group(1)}`", description)


_TOKEN = re.compile(r"<Token token_type: [^,]+, text: (.*?), line: .*?>")


def rewrite(tree: exp.Expr, names: Names) -> exp.Expr:
    """Table names to views, vars to literals (a copy; `tree` is unchanged)."""
    views = {(layer.lower(), name.lower()): view for (layer, name), view in names.views.items()}

    def visit(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name and node.db and not node.catalog:
            view = views.get((node.db.lower(), node.name.lower()))
            if view is not None:
                alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
                return exp.Table(this=exp.to_identifier(view, quoted=True), alias=alias)
        if isinstance(node, exp.Column) and node.args.get("db") is not None:
            key = (node.args["db"].name.lower(), node.table.lower())
            if key in views:  # `silver.orders.amount` → `orders.amount`
                return exp.column(node.this, table=node.table)
        if _is_getvariable(node):
            return _literal(names.variables.get(node.expressions[0].name))
        if isinstance(node, exp.Anonymous) and node.name.lower() == "to_json" \
                and len(node.expressions) == 1:
            return json_text(node.expressions[0])
        return node

    copy = tree.copy()
    for case in list(copy.find_all(exp.Case)):
        variant = json_or_text(case)
        if variant is not None:
            copy = variant if case is copy else copy
            case.replace(variant)
    return spark_functions(copy.transform(visit))


def spark_functions(tree: exp.Expr) -> exp.Expr:
    """DuckDB calls Spark lacks rewritten (`spark_functions`), innermost first, so a
    rewritten call's arguments are already Spark's."""
    for node in reversed(list(tree.walk(bfs=False))):
        translated = rewrite_function(node)
        if translated is not None:
            if node is tree:
                return translated
            node.replace(translated)
    return tree


def json_text(value: exp.Expr) -> exp.Expr:
    """`to_json(value)` keeping NULL fields as `null`, as DuckDB's does (Spark's own leaves
    them out)."""
    keep_nulls = exp.VarMap(keys=exp.Array(expressions=[exp.Literal.string("ignoreNullFields")]),
                            values=exp.Array(expressions=[exp.Literal.string("false")]))
    return exp.Anonymous(this="to_json", expressions=[value.copy(), keep_nulls])


def _is_getvariable(node: exp.Expr) -> bool:
    return (
        isinstance(node, exp.Anonymous)
        and node.name.lower() == "getvariable"
        and len(node.expressions) == 1
        and isinstance(node.expressions[0], exp.Literal)
    )


def _literal(value: Any) -> exp.Expr:
    return exp.null() if value is None else exp.convert(value)


def generate(tree: exp.Expr, sql: str, origin: Location, table: str) -> str:
    found = duckdb_only(tree)
    if found is not None:
        node, construct = found
        raise EngineError(
            f"{construct} is DuckDB-only SQL and does not translate to Spark SQL",
            location=_at(origin, sql, node, construct.split()[0]), table=table,
            hint=UNSUPPORTED_HINT,
        )
    try:
        return tree.sql(dialect=WRITE, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise EngineError(
            f"does not translate to Spark SQL: {str(exc).strip()}", location=origin,
            table=table, hint=UNSUPPORTED_HINT,
        ) from None


def duckdb_only(tree: exp.Expr) -> tuple[exp.Expr, str] | None:
    """The first construct sqlglot keeps as DuckDB wrote it although Spark has none."""
    if isinstance(tree, exp.Pivot):
        return tree, "PIVOT statement"
    for node in tree.walk():
        if isinstance(node, exp.Join) and node.args.get("method") in ("ASOF", "POSITIONAL"):
            return node, f"{node.args['method']} JOIN"
        if isinstance(node, exp.Columns):
            return node, "COLUMNS(...)"
    return None


def _at(origin: Location, sql: str, node: exp.Expr, keyword: str) -> Location:
    """The construct's position in the file: its keyword's token at or before the first
    position the parser recorded inside it."""
    starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
    if not starts:
        return origin
    tokens = _tokens(sql)
    before = [t for t in tokens if t.start <= min(starts) and t.text.upper() == keyword.upper()]
    token = before[-1] if before else next(t for t in tokens if t.start >= min(starts))
    return _in_file(origin, sql, token.line, token.col - len(token.text) + 1)


def _tokens(sql: str) -> list[Any]:
    return list(sqlglot.Dialect.get_or_raise(READ).tokenize(sql))


def _in_file(origin: Location, sql: str, line: int | None, column: int | None) -> Location:
    """A line and column of `sql` as a position in the model file (the SQL may be the file's
    text after a header)."""
    if line is None:
        return origin
    try:
        text = Path(origin.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return Location(origin.file, line, column)
    offset = text.find(sql)
    before = text[:offset].count("\n") if offset > 0 else 0
    return Location(origin.file, line + before, column)
