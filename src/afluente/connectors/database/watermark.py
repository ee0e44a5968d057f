"""Cursor watermarks: how the highest cursor value read is recorded, and the window of the
next read (`cursor > watermark - lookback AND cursor <= max at the start of the read`).

The upper bound is taken before the rows are read, so the batch is fixed whatever is written
to the table meanwhile, and the watermark is known up front: it goes into the same Delta
commit as the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from afluente.connectors.database.config import Incremental, parse_lookback

CursorValue = datetime | date | int | float | Decimal | str


def encode(value: CursorValue) -> dict[str, Any]:
    """The JSON form of a cursor value recorded as progress."""
    if isinstance(value, datetime):
        return {"watermark": value.isoformat(), "watermark_type": "timestamp"}
    if isinstance(value, date):
        return {"watermark": value.isoformat(), "watermark_type": "date"}
    if isinstance(value, bool):
        raise TypeError("a boolean cannot be a cursor")
    if isinstance(value, int):
        return {"watermark": value, "watermark_type": "integer"}
    if isinstance(value, float | Decimal):
        return {"watermark": str(value), "watermark_type": "decimal"}
    return {"watermark": str(value), "watermark_type": "text"}


def decode(progress: Mapping[str, Any]) -> CursorValue | None:
    """The cursor value a progress entry recorded (None when it has none)."""
    value, kind = progress.get("watermark"), progress.get("watermark_type")
    if value is None:
        return None
    if kind == "timestamp":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "integer":
        return int(value)
    if kind == "decimal":
        return Decimal(value)
    return str(value)


def last_watermark(history: Sequence[Mapping[str, Any]]) -> CursorValue | None:
    """The newest recorded watermark (history is newest first)."""
    for progress in history:
        found = decode(progress)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class Window:
    """Rows to read: `lower < cursor <= upper` (`lower_inclusive` for `initial`)."""

    lower: CursorValue | None
    upper: CursorValue
    lower_inclusive: bool = False


def window(
    incremental: Incremental, watermark: CursorValue | None, upper: CursorValue
) -> Window:
    """The next window from the last watermark (or `initial`, or everything)."""
    if watermark is None:
        return Window(lower=incremental.initial, upper=upper, lower_inclusive=True)
    return Window(lower=minus_lookback(watermark, incremental.lookback), upper=upper)


def minus_lookback(watermark: CursorValue, lookback: str | int | None) -> CursorValue:
    if lookback is None:
        return watermark
    if isinstance(watermark, datetime | date) and isinstance(lookback, str):
        return watermark - parse_lookback(lookback)
    if isinstance(watermark, int | float | Decimal) and isinstance(lookback, int):
        return watermark - lookback
    kind = "a timestamp/date" if isinstance(lookback, str) else "a numeric"
    raise ValueError(
        f"lookback {lookback!r} needs {kind} cursor, but the cursor's value is "
        f"{watermark!r}"
    )


def sql_literal(value: CursorValue, *, naive: bool = False) -> str:
    """`value` as a SQL literal both PostgreSQL and MySQL compare with the cursor column.
    `naive`: timestamps without their offset (MySQL, whose session runs in UTC)."""
    if isinstance(value, bool):
        raise TypeError("a boolean cannot be a cursor")
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        if naive and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return "'" + value.isoformat(sep=" ") + "'"
    if isinstance(value, date):
        return "'" + value.isoformat() + "'"
    return "'" + str(value).replace("'", "''") + "'"
