"""DuckDB's error text turned into an EngineError that points into the model file.

DuckDB ends most errors with `LINE n: <the statement's line n>` and a caret under the
failing token, and puts its own advice between the first line and that position
(`Candidate bindings: "amount"`, `Did you mean "orders"?`). The position counts lines of the
statement DuckDB was given, which is the model's text behind a prefix such as
`CREATE VIEW ... AS ` on the first line; it is mapped to the file only when the line DuckDB
shows is that line of the file, so a generated query never gets a made-up position.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from afluente.errors import EngineError, Location

DEFAULT_HINT = "fix the model's SQL; the table keeps its previous version"
_POSITION = re.compile(r"^LINE (\d+): (.*)\n( *)\^", re.MULTILINE)
_ELLIPSIS = "..."
_CANDIDATES = re.compile(r"^Candidate bindings:[\s:]*(.+)$")
_DID_YOU_MEAN = re.compile(r"^Did you mean (.+?)\??$")
_QUOTED = re.compile(r'"([^"]+)"')
_MISSING_COLUMN = re.compile(r'(?:column named|Referenced column) "([^"]+)"')


@dataclass(frozen=True)
class EngineMessage:
    """DuckDB's message split into its parts."""

    summary: str
    advice: tuple[str, ...]
    line: int | None = None
    shown: str = ""
    caret: int = 0


def parse_message(text: str) -> EngineMessage:
    """Summary line, advice lines and the `LINE n:` position (caret offset into `shown`)."""
    match = _POSITION.search(text)
    head = text[: match.start()] if match else text
    lines = [line.strip() for line in head.strip().splitlines() if line.strip()]
    summary = lines[0] if lines else "failed"
    if match is None:
        return EngineMessage(summary, tuple(lines[1:]))
    label = len(f"LINE {match.group(1)}: ")
    return EngineMessage(
        summary, tuple(lines[1:]), int(match.group(1)), match.group(2),
        len(match.group(3)) - label,
    )


def file_location(message: EngineMessage, origin: Location, prefix: str = "") -> Location:
    """Where in `origin.file` DuckDB's caret points, or `origin` when the statement's line
    is not the file's (generated SQL, a Python model)."""
    if message.line is None:
        return origin
    source = _file_line(origin.file, message.line)
    if source is None:
        return origin
    statement_line = prefix + source if message.line == 1 else source
    column = _caret_column(message.shown, message.caret, statement_line)
    if column is None:
        return origin
    if message.line == 1:
        column -= len(prefix)
    return Location(origin.file, message.line, max(column, 1))


def _file_line(file: Path | str, number: int) -> str | None:
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return lines[number - 1] if 0 < number <= len(lines) else None


def _caret_column(shown: str, caret: int, statement_line: str) -> int | None:
    """1-based column of the caret in `statement_line`, which DuckDB may have shown cut
    short with `...` at either end; None when the shown text is not from that line."""
    lead = len(_ELLIPSIS) if shown.startswith(_ELLIPSIS) else 0
    text = shown[lead:].removesuffix(_ELLIPSIS)
    at = statement_line.find(text) if text else -1
    if at < 0:
        return None
    return at + caret - lead + 1


def suggestion(advice: tuple[str, ...]) -> str | None:
    """DuckDB's advice as one hint: its candidates become `did you mean `x`?`."""
    for line in advice:
        names = _suggested_names(line)
        if names:
            others = f" (also: {', '.join(f'`{n}`' for n in names[1:4])})" if names[1:] else ""
            return f"did you mean `{names[0]}`?{others}"
    return " ".join(advice) or None


def _suggested_names(line: str) -> list[str]:
    match = _CANDIDATES.match(line) or _DID_YOU_MEAN.match(line)
    if match is None:
        return []
    return _QUOTED.findall(match.group(1)) or [match.group(1).strip()]


def closest_column(summary: str, columns: Callable[[], Iterable[str]]) -> str | None:
    """`did you mean `x`?` for a missing column DuckDB gave no candidates for (a column
    of an aliased view or subquery); `columns` is only asked for such an error."""
    missing = _MISSING_COLUMN.search(summary)
    if missing is None:
        return None
    close = difflib.get_close_matches(missing.group(1), sorted(set(columns())), n=1)
    return f"did you mean `{close[0]}`?" if close else None


def engine_error(
    text: str, origin: Location, table: str, prefix: str = "", hint: str = DEFAULT_HINT,
    columns: Callable[[], Iterable[str]] | None = None,
) -> EngineError:
    """The EngineError for DuckDB's `text` about the statement `prefix` + model SQL;
    `columns` gives the names to suggest from when DuckDB suggests none."""
    message = parse_message(text)
    advice = suggestion(message.advice)
    if advice is None and columns is not None:
        advice = closest_column(message.summary, columns)
    return EngineError(
        f"DuckDB: {message.summary}",
        location=file_location(message, origin, prefix),
        table=table,
        hint=f"{advice} — {hint}" if advice else hint,
    )
