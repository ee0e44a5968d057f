"""All user-facing output: a rich terminal console or a JSON one (`--json`).

Commands hand `emit` both the machine-readable payload and a function that renders it for a
person; the active console picks one. Nothing else in the package writes to the terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console as RichTerminal
from rich.table import Table

from afluente.json_values import to_jsonable

Render = Callable[["Console"], None]

#: past this many rows a table is printed as aligned plain lines: rich lays out every cell
#: of a table to size its columns (0.6 s of CPU for `plan` of 1,000 models, bench/RESULTS.md
#: §16.5), where plain lines cost a few milliseconds
PLAIN_TABLE_ROWS = 200


class Console:
    """Human output on stdout, errors on stderr."""

    json_mode = False

    def __init__(self, out: RichTerminal | None = None, err: RichTerminal | None = None) -> None:
        self.out = out or RichTerminal(highlight=False, soft_wrap=True)
        self.err = err or RichTerminal(stderr=True, highlight=False, soft_wrap=True)

    def emit(self, payload: Any, render: Render) -> None:
        render(self)

    def line(self, text: str = "", style: str | None = None) -> None:
        self.out.print(text, style=style, markup=style is None)

    def table(
        self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None
    ) -> None:
        if len(rows) > PLAIN_TABLE_ROWS:
            self._plain_table(columns, rows, title)
            return
        table = Table(title=title, title_justify="left", header_style="bold")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(v) for v in row))
        self.out.print(table)

    def _plain_table(
        self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None
    ) -> None:
        cells = [list(columns), *([_cell(v) for v in row] for row in rows)]
        widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                 for row in cells]
        self.out.out("\n".join([title, *lines] if title else lines), highlight=False)

    def error(self, text: str, traceback: str | None = None) -> None:
        if traceback:
            self.err.print(traceback, markup=False, highlight=False)
        self.err.print(f"[bold red]error:[/] {_escape(text)}")


class JsonConsole(Console):
    """One JSON document on stdout per command; errors as JSON on stderr."""

    json_mode = True

    def emit(self, payload: Any, render: Render) -> None:
        sys.stdout.write(json.dumps(payload, default=to_jsonable, ensure_ascii=False) + "\n")

    def line(self, text: str = "", style: str | None = None) -> None:
        return None

    def error(self, text: str, traceback: str | None = None) -> None:
        entry = {"error": text} if traceback is None else {"error": text, "traceback": traceback}
        sys.stderr.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
