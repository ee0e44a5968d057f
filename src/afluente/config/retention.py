"""Retention periods (`retention: 5 years`), shared by models and sources (a source's bronze
table): how long rows are kept before `afluente retain` deletes them."""

from __future__ import annotations

import re
from typing import Any, Literal

RetentionUnit = Literal["days", "months", "years"]
_RETENTION = re.compile(r"^\s*(\d+)\s*(day|days|month|months|year|years)\s*$", re.IGNORECASE)
#: The keys that declare one (left out of a table's fingerprint: deleting old rows is not
#: a new definition, and adding them rebuilds nothing).
RETENTION_KEYS = frozenset({"retention", "retention_column"})


def parse_retention(value: Any) -> tuple[int, RetentionUnit]:
    """`5 years`, `18 months`, `90 days` (singular too) as (count, unit)."""
    match = _RETENTION.match(str(value))
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"{value!r} is not a retention period: write it like `5 years`, "
                         "`18 months` or `90 days`")
    unit = match.group(2).lower().rstrip("s") + "s"
    return int(match.group(1)), unit  # type: ignore[return-value]


def normal_retention(value: Any) -> str | None:
    """A period as it is kept (`5 years`); None stays None."""
    if value is None:
        return None
    count, unit = parse_retention(value)
    return f"{count} {unit}"


def retention_pair_error(retention: str | None, column: str | None) -> str | None:
    """Why `retention` and `retention_column` do not go together, or None."""
    if (retention is None) != (column is None):
        return ("`retention` and `retention_column` go together: the period, and the date "
                "or timestamp column it is measured on")
    return None
