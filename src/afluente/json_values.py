"""Table values as JSON has them: times as ISO 8601, decimals as strings (exact), bytes as
hex, anything else as its text. One rule for `afluente query --format json` and the API."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any


def to_jsonable(value: Any) -> Any:
    """`json.dumps`'s `default` for the values a table holds that JSON has no type for."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def json_value(value: Any) -> Any:
    """`value` as JSON holds it: JSON's own types as they are, the rest by `to_jsonable`."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return to_jsonable(value)
