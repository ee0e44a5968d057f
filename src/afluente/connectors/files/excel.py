"""Excel (xlsx) sheets to Arrow with `python-calamine` (DuckDB's reader is an extension).

Cells land as text, like CSV, so bronze keeps what the sheet shows and `columns:` hints type
it: whole numbers without `.0`, dates in ISO 8601, booleans as `true`/`false`, empty cells
null. The first row is the header unless `options.header` is false.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import islice
from typing import Any

import pyarrow as pa
from python_calamine import CalamineSheet, CalamineWorkbook

BATCH_ROWS = 10_000


class SheetNotFound(LookupError):
    """The workbook has no sheet of the requested name."""


def cell_text(value: Any) -> str | None:
    """How one cell lands in bronze."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def open_sheet(path: str, sheet: str | None) -> CalamineSheet:
    workbook = CalamineWorkbook.from_path(path)
    if sheet is None:
        return workbook.get_sheet_by_index(0)
    if sheet not in workbook.sheet_names:
        raise SheetNotFound(f"no sheet `{sheet}` (sheets: {', '.join(workbook.sheet_names)})")
    return workbook.get_sheet_by_name(sheet)


def sheet_columns(path: str, sheet: str | None, header: bool) -> list[str]:
    rows = open_sheet(path, sheet).iter_rows()
    first = next(iter(rows), None)
    if first is None:
        return []
    if not header:
        return [f"column{i}" for i in range(len(first))]
    names: list[str] = []
    for i, cell in enumerate(first):
        name = (cell_text(cell) or "").strip() or f"column{i}"
        while name in names:
            name += "_1"
        names.append(name)
    return names


def sheet_batches(path: str, sheet: str | None, header: bool) -> Iterator[pa.RecordBatch]:
    columns = sheet_columns(path, sheet, header)
    schema = pa.schema([(c, pa.string()) for c in columns])
    rows = iter(open_sheet(path, sheet).iter_rows())
    if header:
        next(rows, None)
    while chunk := list(islice(rows, BATCH_ROWS)):
        texts = [[cell_text(v) for v in row] for row in chunk]
        arrays = [
            pa.array([row[i] if i < len(row) else None for row in texts], pa.string())
            for i in range(len(columns))
        ]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)
