"""Parse a SQL model file: its header config and the `layer.table` references in its query."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.tokens import TokenType

from afluente.errors import Location, ModelError
from afluente.model.nodes import Dependency
from afluente.model.refs import TableRef

DIALECT = "duckdb"
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "main", "temp", "system"})


def parse_query(text: str, file: Path) -> exp.Query:
    """Parse the model's single SELECT statement; syntax errors name file:line:col."""
    try:
        statements = [s for s in sqlglot.parse(text, dialect=DIALECT) if s is not None]
    except ParseError as exc:
        detail = exc.errors[0] if exc.errors else {}
        raise ModelError(
            f"SQL syntax error: {_describe(detail)}",
            location=Location(file, detail.get("line"), detail.get("col")),
            hint="fix the SQL near that position; the model must be one SELECT statement",
        ) from None
    if not statements:
        raise ModelError(
            "the model has no query",
            location=Location(file, 1),
            hint="write one SELECT statement after the header",
        )
    if len(statements) > 1:
        raise ModelError(
            f"a model holds one SELECT statement, found {len(statements)}",
            location=Location(file, _second_statement_line(text)),
            hint="split the statements into one model file each, or combine them with CTEs",
        )
    query = statements[0]
    if not isinstance(query, exp.Query):
        raise ModelError(
            f"a model must be a SELECT query, found {query.key.upper()}",
            location=Location(file, _line_of(query) or 1),
            hint="afluente writes the table itself: keep only the SELECT",
        )
    return query


def normalized_sql(query: exp.Query) -> str:
    """The query re-rendered without comments or layout, for fingerprints. Renders in
    place (no copy of the tree): call it after everything else has read the tree."""
    return sqlglot.Dialect.get_or_raise(DIALECT).generate(query, copy=False, comments=False)


def table_references(query: exp.Query, file: Path) -> tuple[Dependency, ...]:
    """Every `layer.table` the query reads, in order of first appearance."""
    seen: dict[TableRef, Dependency] = {}
    for table in query.find_all(exp.Table):
        if not table.db or table.catalog or table.db.lower() in SYSTEM_SCHEMAS:
            continue
        ref = TableRef(table.db.lower(), table.name.lower())
        if ref not in seen:
            seen[ref] = Dependency(ref, _location(table, file))
    return tuple(sorted(seen.values(), key=_position))


def _position(dep: Dependency) -> tuple[int, int]:
    return (dep.location.line or 0, dep.location.column or 0)


def _location(table: exp.Table, file: Path) -> Location:
    node = table.args.get("db")
    meta = node.meta if isinstance(node, exp.Identifier) else {}
    if "col" not in meta:
        return Location(file, meta.get("line"))
    # sqlglot records where the token ends; point at where the reference starts
    start = int(meta["col"]) - (int(meta.get("end", 0)) - int(meta.get("start", 0)))
    return Location(file, meta.get("line"), start)


def _line_of(node: Any) -> int | None:
    for child in node.walk():
        if isinstance(child, exp.Identifier) and "line" in child.meta:
            return int(child.meta["line"])
    return None


def _second_statement_line(text: str) -> int:
    """The line where the statement after the first `;` begins."""
    tokens = sqlglot.tokenize(text, read=DIALECT)
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.SEMICOLON and index + 1 < len(tokens):
            return int(tokens[index + 1].line)
    return 1


def _describe(detail: dict[str, object]) -> str:
    description = str(detail.get("description", "invalid SQL"))
    highlight = detail.get("highlight")
    if highlight and "<Token" in description:
        description = description.split("<Token")[0].rstrip(" ,") + f" `{highlight}`"
    description = re.sub(r" for <class '[\w.]+'>", "", description)
    return description
