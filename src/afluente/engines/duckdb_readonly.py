"""Ad-hoc SQL on DuckDB that can neither write nor read outside the project's data.

Two independent guards, so neither depends on the other being right:

1. **DuckDB's own parser classifies the input.** It must be exactly one statement, and that
   statement a query (`SELECT`, `WITH`, `FROM`, `VALUES`, `PIVOT … IN (…)`, `DESCRIBE`,
   `SUMMARIZE`, `SHOW`) or an `EXPLAIN` of one. The statement object DuckDB parsed is the
   one executed, so no other parser's reading of the text (comments, string tricks) matters.
2. **The connection is locked down before the query runs.** External access is off except
   for reading under the allowed folders (the warehouse and the sources' landing folders),
   Python replacement scans are off, extensions cannot be installed or loaded, and the
   configuration is locked so the query cannot turn any of this back on.

Which tables a statement reads (so `afluente query` attaches only those) is asked of DuckDB's
binder too, and only on a connection locked down to read no file at all and holding no
data: binding resolves table functions (`read_csv('…')` looks for its files), so it is never
done on an open connection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb

from afluente.errors import EngineError

_QUERY_WORDS = "SELECT, WITH, FROM, VALUES, PIVOT, DESCRIBE, SUMMARIZE, SHOW or EXPLAIN"
_WRITE_HINT = "tables are written by `afluente run`, never by ad-hoc SQL"
_DENIED_PATH = re.compile(r'Cannot access (?:file|directory) "([^"]*)"')
#: What reads the catalog rather than named tables (`SHOW TABLES`, `duckdb_tables()`, …):
#: such a statement must see every table, so its names do not narrow what is attached.
_CATALOG = re.compile(
    r"\b(show|information_schema|pg_catalog|pg_\w+|duckdb_\w+|pragma\w*|sqlite_\w+|"
    r"\w*table_info|current_schemas?|getvariable)\b",
    re.IGNORECASE,
)
_ALIAS = re.compile(r" AS .*\Z", re.DOTALL)


def lock_down(connection: duckdb.DuckDBPyConnection, readable: Sequence[str]) -> None:
    """Allow reading files only under `readable` folders, and nothing that writes or loads
    code; lock the configuration so no statement can change it back."""
    folders = ", ".join(_literal(folder.rstrip("/") + "/") for folder in readable)
    # a literal, not a bound parameter: binding a Python list imports pandas when installed
    connection.execute(f"SET allowed_directories = [{folders}]")
    for setting in (
        "SET python_enable_replacements = false",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET allow_persistent_secrets = false",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ):
        connection.execute(setting)


def read_only_statement(connection: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The one read-only statement in `sql`, as DuckDB parsed it; anything else is refused
    as a whole, before any of it runs."""
    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as exc:
        raise EngineError(
            f"cannot parse the query: {_first_line(exc)}", hint="check the SQL"
        ) from None
    if len(statements) != 1:
        kinds = ", ".join(_kind(s) for s in statements) or "none"
        raise EngineError(
            f"`afluente query` runs exactly one read-only statement; got {len(statements)} "
            f"({kinds})",
            hint=_pivot_hint(sql) or f"send one {_QUERY_WORDS} statement; {_WRITE_HINT}",
        )
    statement = statements[0]
    if not _reads_only(connection, statement):
        raise EngineError(
            f"`afluente query` runs read-only statements only; got {_kind(statement)}",
            hint=f"use {_QUERY_WORDS}; {_WRITE_HINT}",
        )
    return statement


def tables_read(sql: str) -> set[str] | None:
    """The tables the one read-only statement `sql` reads, as lower-case `schema.table`
    names, bound by DuckDB on a locked-down empty connection; None when that cannot say
    (the statement reads the catalog, or does not bind without the tables). A statement
    `afluente query` refuses raises its `EngineError` here, before anything is attached."""
    connection = duckdb.connect(":memory:")
    try:
        lock_down(connection, [])
        read_only_statement(connection, sql)
        if _CATALOG.search(sql):
            return None
        try:
            names = connection.get_table_names(sql, qualified=True)
        except duckdb.Error:  # binding needs the tables (`JOIN … USING`): parse only
            return _parsed_names(connection, sql)
        return {_ALIAS.sub("", name).lower() for name in names}
    finally:
        connection.close()


def _parsed_names(connection: duckdb.DuckDBPyConnection, sql: str) -> set[str] | None:
    """The `schema.table` names in DuckDB's parse tree of a SELECT (`json_serialize_sql`);
    None for anything else, a table function, or a name without its schema (a CTE)."""
    try:
        row = connection.execute(f"SELECT json_serialize_sql({_literal(sql)})").fetchone()
    except duckdb.Error:
        return None
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        return None
    names: set[str] = set()
    for node in _nodes(tree):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION" or (kind == "BASE_TABLE" and not node.get("schema_name")):
            return None
        if kind == "BASE_TABLE":
            names.add(f"{node['schema_name']}.{node['table_name']}".lower())
    return names


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def _reads_only(connection: duckdb.DuckDBPyConnection, statement: Any) -> bool:
    if statement.type == duckdb.StatementType.SELECT:
        return True
    if statement.type != duckdb.StatementType.EXPLAIN:
        return False
    explained = _explained(connection, statement.query)
    return explained is not None and explained.type == duckdb.StatementType.SELECT


def _explained(connection: duckdb.DuckDBPyConnection, text: str) -> Any:
    """The statement an `EXPLAIN` wraps (`EXPLAIN ANALYZE` runs it): the first tail of the
    text, at a token boundary after `EXPLAIN` and its options, that DuckDB parses as one
    statement. Token positions come from DuckDB's tokenizer, so comments are skipped as it
    skips them."""
    for start, _ in duckdb.tokenize(text)[1:]:
        try:
            found = connection.extract_statements(text[start:])
        except duckdb.Error:
            continue
        if len(found) == 1:
            return found[0]
    return None


def _pivot_hint(sql: str) -> str | None:
    """DuckDB runs a PIVOT without an IN list as two statements (an enum type first)."""
    if "pivot" not in sql.lower():
        return None
    return "list the pivoted values (`PIVOT t ON col IN ('a', 'b') USING ...`) to make it one"


def _kind(statement: Any) -> str:
    return str(statement.type).rsplit(".", 1)[-1]


def access_error(exc: duckdb.Error, sql: str, readable: Sequence[str]) -> EngineError | None:
    """A clear error for a file read outside the allowed folders, naming the function and
    the path; None for any other error."""
    if not isinstance(exc, duckdb.PermissionException):
        return None
    match = _DENIED_PATH.search(str(exc))
    path = match.group(1) if match else "?"
    allowed = ", ".join(readable) or ("none (the warehouse is not on local disk, or "
                                   "governance applies to you)")
    return EngineError(
        f"`afluente query` cannot read {_call(sql, path)}: files outside the warehouse and "
        "the sources' landing folders are not readable, and nothing is writable",
        hint=f"query tables as layer.table; files may be read by absolute path under: {allowed}",
    )


def _call(sql: str, path: str) -> str:
    found = re.search(r"(\w+)\s*\(\s*'" + re.escape(path.replace("'", "''")) + "'", sql)
    return f"{found.group(1)}('{path}')" if found else f"'{path}'"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
