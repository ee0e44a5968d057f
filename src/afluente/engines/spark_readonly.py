"""Ad-hoc SQL on Spark that can neither write nor read outside the project's data.

The user's text (DuckDB's dialect, as everywhere in afluente) is parsed with sqlglot; it must
be exactly one query (`SELECT`, `WITH`, set operations, `VALUES`). Every table it reads must
be a table or view the engine registered, a CTE, or a file under the allowed folders: DuckDB
file reads (`read_parquet('…')`, `FROM 'x.csv'`) and Spark's own (`parquet.`…``) are checked
by path. Spark's functions that call into the JVM (`reflect`, `java_method`) are refused. The
text Spark runs is generated from the checked tree, never the user's text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from afluente.engines.spark_sql import READ, WRITE, Names, rewrite
from afluente.errors import EngineError

_WRITE_HINT = "tables are written by `afluente run`, never by ad-hoc SQL"
_QUERY_HINT = f"send one SELECT (or WITH ... SELECT) statement; {_WRITE_HINT}"
_FILE_FORMATS = {"parquet", "csv", "json", "orc", "text", "avro", "binaryfile", "delta", "xml"}
_JVM_CALLS = {"reflect", "java_method", "try_reflect"}


def read_only_spark_sql(sql: str, names: Names, readable: Sequence[str]) -> str:
    """The one read-only query in `sql` as Spark SQL; anything else is refused whole."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=READ) if s is not None]
    except ParseError as exc:
        raise EngineError(f"cannot parse the query: {_first_error(exc)}",
                          hint="check the SQL") from None
    if len(statements) != 1:
        raise EngineError(
            f"`afluente query` runs exactly one read-only statement; got {len(statements)}",
            hint=_QUERY_HINT,
        )
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise EngineError(
            f"`afluente query` runs read-only statements only; got {tree.key.upper()}",
            hint=_QUERY_HINT,
        )
    _check_calls(tree)
    for path in file_reads(tree):
        _check_path(path, readable)
    try:
        return rewrite(tree, names).sql(dialect=WRITE, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise EngineError(f"the query does not translate to Spark SQL: {exc}",
                          hint="check the SQL") from None


def file_reads(tree: exp.Expr) -> list[str]:
    """The paths of every file the query reads: table functions' string arguments, quoted
    paths used as tables, and Spark's `format.`path`` tables."""
    paths = []
    for table in tree.find_all(exp.Table):
        source = table.this
        if isinstance(source, exp.Func):
            paths += [lit.name for lit in source.find_all(exp.Literal) if lit.is_string]
        elif table.db.lower() in _FILE_FORMATS or _looks_like_path(table.name):
            paths.append(table.name)
    return paths


def _looks_like_path(name: str) -> bool:
    return "/" in name or "\\" in name or "." in name or ":" in name


def _check_calls(tree: exp.Expr) -> None:
    for call in tree.find_all(exp.Anonymous):
        if call.name.lower() in _JVM_CALLS:
            raise EngineError(f"`afluente query` cannot call {call.name}(): it runs JVM code",
                              hint=_QUERY_HINT)


def _check_path(path: str, readable: Sequence[str]) -> None:
    resolved = os.path.realpath(path.removeprefix("file://"))
    for folder in readable:
        base = os.path.realpath(folder)
        if resolved == base or resolved.startswith(base.rstrip(os.sep) + os.sep):
            return
    allowed = ", ".join(readable) or ("none (the warehouse is not on local disk, or "
                                   "governance applies to you)")
    raise EngineError(
        f"`afluente query` cannot read '{path}': files outside the warehouse and the "
        "sources' landing folders are not readable, and nothing is writable",
        hint=f"query tables as layer.table; files may be read by absolute path under: {allowed}",
    )


def _first_error(exc: ParseError) -> str:
    first = exc.errors[0] if exc.errors else {}
    return str(first.get("description") or exc).splitlines()[0]
