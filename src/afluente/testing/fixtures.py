"""Turn fixture rows (YAML or CSV) into typed Arrow tables.

Every value goes through text and the engine's cast to the column's type: `"10.50"` becomes
DECIMAL exactly, `2024-01-05 10:00:00` a TIMESTAMP, `"true"` a BOOLEAN, so what the engine
sees is what the real table would hold. The type comes from the upstream's real schema when
it is known, else from the YAML values themselves (CSV cells are text).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from afluente.engines import Engine
from afluente.errors import ConfigError, EngineError, Location
from afluente.testing.spec import CsvFixture, Fixture


class FixtureError(ConfigError):
    """A fixture does not fit the table it stands for."""


@dataclass(frozen=True)
class FixtureRows:
    """Rows of a fixture as written: column names in order, and each row's values."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    from_csv: bool


def read_fixture(fixture: Fixture, base: Path, location: Location) -> FixtureRows:
    """The rows of `fixture`; a CSV path is relative to the test file's folder `base`."""
    if isinstance(fixture, CsvFixture):
        return _read_csv(fixture.csv, base, location)
    columns: dict[str, None] = {}
    for row in fixture:
        columns.update(dict.fromkeys(str(k) for k in row))
    rows = tuple({str(k): v for k, v in row.items()} for row in fixture)
    return FixtureRows(tuple(columns), rows, from_csv=False)


def _read_csv(value: str, base: Path, location: Location) -> FixtureRows:
    if "\n" in value.strip():
        text = value
    else:
        path = base / value
        if not path.is_file():
            raise FixtureError(
                f"CSV fixture `{value}` not found (looked for {path})",
                location=location,
                hint="give a path relative to the test file, or the CSV text itself",
            )
        text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text.strip("\n")))
    header = next(reader, None)
    if not header:
        raise FixtureError("CSV fixture has no header line", location=location,
                           hint="start the CSV with the column names")
    names = tuple(h.strip() for h in header)
    rows = tuple(
        {name: (cell if cell != "" else None) for name, cell in zip(names, line, strict=False)}
        for line in reader
        if line
    )
    return FixtureRows(names, rows, from_csv=True)


def infer_type(values: Sequence[Any]) -> str:
    """The DuckDB type of a YAML column, from the values it holds (text when mixed)."""
    kinds = {_kind(v) for v in values if v is not None}
    if not kinds:
        return "VARCHAR"
    if kinds == {"BIGINT", "DOUBLE"}:
        return "DOUBLE"
    return kinds.pop() if len(kinds) == 1 else "VARCHAR"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, datetime):
        return "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
    if isinstance(value, date):
        return "DATE"
    return "VARCHAR"


def to_text(value: Any) -> str | None:
    """A YAML value as the text DuckDB casts from."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def typed_table(
    rows: FixtureRows,
    types: dict[str, str],
    location: Location,
    what: str,
    engine: Engine,
) -> pa.Table:
    """A table with exactly the columns of `types` (name → engine type), in that order,
    cast by `engine`; columns the rows lack are null. A value that does not cast is a
    FixtureError."""
    text = pa.table(
        {name: pa.array([to_text(r.get(name)) for r in rows.rows], pa.string()) for name in types}
    )
    try:
        typed = engine.cast_text(text, types)
    except EngineError as exc:
        raise FixtureError(f"{what}: cannot build the table: {exc.message}", location=location,
                           hint="check the column types") from None
    _check_casts(text, typed, types, location, what)
    return typed


def _check_casts(
    text: pa.Table, typed: pa.Table, types: dict[str, str], location: Location, what: str
) -> None:
    for name, kind in types.items():
        raw, cast = text.column(name).to_pylist(), typed.column(name).to_pylist()
        for index, (before, after) in enumerate(zip(raw, cast, strict=True)):
            if before is not None and after is None:
                raise FixtureError(
                    f"{what}: row {index + 1}, column `{name}`: {before!r} is not a {kind}",
                    location=location,
                    hint=f"write a value that converts to {kind} (the column's type), "
                    "or null",
                )


def unknown_columns(
    rows: FixtureRows, known: Sequence[str], location: Location, what: str
) -> None:
    """A fixture column the table does not have is an error with close matches."""
    for name in rows.columns:
        if name in known:
            continue
        close = difflib.get_close_matches(name, list(known), n=3)
        hint = "did you mean " + " or ".join(f"`{c}`" for c in close) + "? " if close else ""
        raise FixtureError(
            f"{what} has no column `{name}`",
            location=location,
            hint=hint + f"its columns: {', '.join(known)}",
        )

