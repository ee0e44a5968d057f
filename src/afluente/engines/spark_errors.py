"""Spark's failures as EngineErrors that point into the model file.

Spark runs the transpiled text, so its `line 1 pos 7` counts in that text, not the file.
What does carry over is the words: Spark's query context names the failing fragment
(`nosuch`, `sum(amount)`), and most messages name an object in backticks. The first word of
those found in the model's SQL gives the line and column in the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from afluente.engines.python_errors import python_model_error
from afluente.errors import AfluenteError, EngineError, Location

DEFAULT_HINT = "fix the model's SQL; the table keeps its previous version"
_TAIL = re.compile(r"\s*SQLSTATE: \w+.*$|;\s*line \d+ pos \d+.*$", re.DOTALL)
_PY4J = "An error occurred while calling"
_NAMED = re.compile(r"`([^`]+)`")


def summary(exc: BaseException) -> str:
    """Spark's message without its SQLSTATE, position and logical plan."""
    lines = [line.strip(" :") for line in str(exc).strip().splitlines() if line.strip(" :")]
    if len(lines) > 1 and lines[0].startswith(_PY4J):  # a JVM exception: say its cause
        lines = [_root_cause(exc) or lines[1]]
    first = lines[0] if lines else type(exc).__name__
    return _TAIL.sub("", first).strip() or first


def _root_cause(exc: BaseException) -> str | None:
    """The innermost cause of a JVM exception (`Job 3 cancelled`, not `awaitResult`)."""
    java = getattr(exc, "java_exception", None)
    try:
        while java is not None and java.getCause() is not None:
            java = java.getCause()
        return None if java is None else str(java.toString())
    except Exception:  # the JVM is gone: keep pyspark's own text
        return None


def spark_error(
    exc: BaseException, origin: Location, table: str, sql: str | None = None
) -> EngineError:
    """`exc` from Spark running the model `table` of `origin` (whose SQL is `sql`)."""
    if isinstance(exc, AfluenteError):
        return EngineError(exc.message, location=exc.location or origin, table=table,
                           hint=exc.hint)
    location = origin if sql is None else locate(exc, origin, sql)
    return EngineError(summary(exc), location=location, table=table, hint=DEFAULT_HINT)


def locate(exc: BaseException, origin: Location, sql: str) -> Location:
    """Where in the file the first fragment Spark names occurs in the model's SQL."""
    for word in _fragments(exc):
        found = re.search(r"(?<![\w.])" + re.escape(word) + r"(?![\w])", sql, re.IGNORECASE)
        if found is not None:
            return _position(origin, sql, found.start())
    return origin


def _fragments(exc: BaseException) -> list[str]:
    words: list[str] = []
    contexts: list[Any] = getattr(exc, "getQueryContext", lambda: [])() or []
    for context in contexts:
        fragment = getattr(context, "fragment", lambda: "")() or ""
        words.append(fragment.strip())
    for name in _NAMED.findall(summary(exc)):
        words += [name, name.rsplit(".", 1)[-1]]
    return [w for w in words if w and not w.startswith("__afluente_")]


def _position(origin: Location, sql: str, offset: int) -> Location:
    try:
        text = Path(origin.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = sql
    start = text.find(sql)
    absolute = offset + (start if start >= 0 else 0)
    if start < 0:
        text = sql
    line = text.count("\n", 0, absolute) + 1
    column = absolute - (text.rfind("\n", 0, absolute) + 1) + 1
    return Location(origin.file, line, column)


def python_error(exc: Exception, origin: Location, table: str) -> EngineError:
    """A Python model's own exception, at the line of its file that raised it."""
    return python_model_error(exc, origin, table, summary(exc),
                              "its inputs are Spark DataFrames on this engine")
