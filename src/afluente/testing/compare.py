"""Compare a model's output with the expected rows, and describe the difference.

Both sides arrive with the same column types (expected values are cast to the output's
types first), so `"10.50"` and `10.5` as DECIMAL are equal and timestamps compare as
timestamps. Rows are a multiset unless order matters; with `key:` a missing and an
unexpected row of the same key become one changed row listing only its differing columns.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

Row = dict[str, Any]


@dataclass(frozen=True)
class ChangedRow:
    """A row found by key whose other columns differ: column → (expected, actual)."""

    key: Row
    columns: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class Diff:
    """What differs between expected and actual rows (empty when they agree)."""

    columns: tuple[str, ...]
    expected_rows: int
    actual_rows: int
    missing: list[Row] = field(default_factory=list)
    unexpected: list[Row] = field(default_factory=list)
    changed: list[ChangedRow] = field(default_factory=list)
    misplaced: list[tuple[int, Row, Row]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.missing or self.unexpected or self.changed or self.misplaced)


def compare(
    expected: pa.Table,
    actual: pa.Table,
    columns: Sequence[str],
    key: Sequence[str] = (),
    order_matters: bool = False,
) -> Diff:
    """The difference between the tables on `columns` (both must hold them)."""
    want = expected.select(list(columns)).to_pylist()
    got = actual.select(list(columns)).to_pylist()
    diff = Diff(tuple(columns), len(want), len(got))
    if order_matters:
        _ordered(want, got, diff)
        return diff
    missing = Counter(_hashable(r) for r in want)
    missing.subtract(_hashable(r) for r in got)
    diff.missing.extend(_rows(want, missing, positive=True))
    diff.unexpected.extend(_rows(got, missing, positive=False))
    if key:
        _pair_by_key(diff, key)
    return diff


def _ordered(want: list[Row], got: list[Row], diff: Diff) -> None:
    for index, (expected, actual) in enumerate(zip(want, got, strict=False)):
        if _hashable(expected) != _hashable(actual):
            diff.misplaced.append((index + 1, expected, actual))
    diff.missing.extend(want[len(got):])
    diff.unexpected.extend(got[len(want):])


def _rows(rows: list[Row], balance: Counter[Any], positive: bool) -> list[Row]:
    """Rows whose count is off, as many times as they are off, in their original order."""
    left = {k: (v if positive else -v) for k, v in balance.items()}
    picked: list[Row] = []
    for row in rows:
        token = _hashable(row)
        if left.get(token, 0) > 0:
            left[token] -= 1
            picked.append(row)
    return picked


def _pair_by_key(diff: Diff, key: Sequence[str]) -> None:
    unexpected_by_key: dict[Any, list[Row]] = {}
    for row in diff.unexpected:
        unexpected_by_key.setdefault(_hashable({k: row[k] for k in key}), []).append(row)
    still_missing: list[Row] = []
    for row in diff.missing:
        candidates = unexpected_by_key.get(_hashable({k: row[k] for k in key}))
        if not candidates:
            still_missing.append(row)
            continue
        actual = candidates.pop(0)
        differing = {c: (row[c], actual[c]) for c in row if _norm(row[c]) != _norm(actual[c])}
        diff.changed.append(ChangedRow({k: row[k] for k in key}, differing))
        diff.unexpected.remove(actual)
    diff.missing[:] = still_missing


def _hashable(row: Row) -> str:
    return json.dumps({k: _norm(v) for k, v in row.items()}, sort_keys=True, default=str)


def _norm(value: Any) -> Any:
    """Floats compare to 12 significant digits; NaN equals NaN; decimals by value."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else float(f"{value:.12g}")
    if isinstance(value, Decimal):
        return str(value.normalize()) if value.is_finite() else str(value)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def show(value: Any) -> str:
    """A value as a person reads it in a diff."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def show_row(row: Row) -> str:
    return "{" + ", ".join(f"{k}: {show(v)}" for k, v in row.items()) + "}"


def render_diff(diff: Diff) -> list[str]:
    """The diff as indented lines of text."""
    lines = [f"expected {diff.expected_rows} rows, got {diff.actual_rows} "
             f"(compared columns: {', '.join(diff.columns)})"]
    for changed in diff.changed:
        lines.append(f"changed row {show_row(changed.key)}:")
        lines.extend(
            f"    {column}: expected {show(want)}, got {show(got)}"
            for column, (want, got) in changed.columns.items()
        )
    for index, want, got in diff.misplaced:
        lines.append(f"row {index}: expected {show_row(want)}")
        lines.append(f"{' ' * len(str(index))}      got      {show_row(got)}")
    if diff.missing:
        lines.append("missing rows (expected, not in the output):")
        lines.extend(f"  - {show_row(r)}" for r in diff.missing)
    if diff.unexpected:
        lines.append("unexpected rows (in the output, not expected):")
        lines.extend(f"  + {show_row(r)}" for r in diff.unexpected)
    return lines
