"""The schema pillar: what changed between two versions of a table, each change classified.

Breaking: a removed, renamed or narrowed/retyped column (readers that name it fail or get
other values). Non-breaking: an added column, or a widening (int32 -> int64, float ->
double). A removed column and an added one of the same type at the same position are taken
to be one rename.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ChangeKind = Literal["added", "removed", "renamed", "retyped", "stopped_arriving"]
_WIDENINGS = {
    ("int8", "int16"), ("int8", "int32"), ("int8", "int64"), ("int16", "int32"),
    ("int16", "int64"), ("int32", "int64"), ("float", "double"), ("halffloat", "float"),
    ("halffloat", "double"), ("string", "large_string"),
}


@dataclass(frozen=True)
class SchemaChange:
    kind: ChangeKind
    column: str
    detail: str
    breaking: bool

    def describe(self) -> str:
        flag = "breaking" if self.breaking else "non-breaking"
        return f"{self.kind} `{self.column}` ({self.detail}; {flag})"


def diff_schemas(before: dict[str, str], after: dict[str, str]) -> list[SchemaChange]:
    """Changes from `before` to `after` (column name -> type), in column order."""
    removed = [c for c in before if c not in after]
    added = [c for c in after if c not in before]
    changes: list[SchemaChange] = []
    for old in list(removed):
        twin = _rename_of(old, before, after, added)
        if twin is not None:
            removed.remove(old)
            added.remove(twin)
            changes.append(SchemaChange("renamed", old, f"now `{twin}`", True))
    changes += [SchemaChange("removed", c, before[c], True) for c in removed]
    changes += [SchemaChange("added", c, after[c], False) for c in added]
    for name in before:
        if name in after and before[name] != after[name]:
            widening = (before[name], after[name]) in _WIDENINGS
            detail = f"{before[name]} -> {after[name]}"
            changes.append(SchemaChange("retyped", name, detail, not widening))
    return changes


def _rename_of(
    old: str, before: dict[str, str], after: dict[str, str], added: list[str]
) -> str | None:
    position = list(before).index(old)
    names = list(after)
    if position < len(names) and names[position] in added:
        candidate = names[position]
        if after[candidate] == before[old]:
            return candidate
    return None


def stopped_arriving(
    profile: dict[str, dict[str, float | None]], history: list[dict[str, dict[str, float | None]]]
) -> list[SchemaChange]:
    """Ingested tables keep every column they ever had (Delta schema evolution), so a source
    that drops a column shows as a column with no value at all in the new rows. A column that
    had values in every earlier batch and has none in this one stopped arriving, unless its
    earlier null rate makes an all-null batch of this size plausible: an optional column,
    empty in a few rows, is not a removed one."""
    changes = []
    for column, stats in profile.items():
        if stats.get("null_rate") != 1.0 or not history:
            continue
        earlier = [h.get(column, {}) for h in history]
        if not all(_has_values(e) for e in earlier):
            continue
        if _all_null_chance(earlier, stats.get("rows")) < ALL_NULL_CHANCE:
            detail = "no value in any row of this run; the source no longer sends it"
            changes.append(SchemaChange("stopped_arriving", column, detail, True))
    return changes


ALL_NULL_CHANCE = 0.001  # an all-null batch less likely than this is not chance


def _has_values(stats: dict[str, float | None]) -> bool:
    rate = stats.get("null_rate")
    return rate is not None and rate < 1.0


def _all_null_chance(earlier: list[dict[str, float | None]], rows: float | None) -> float:
    """How likely `rows` rows would all be null at the column's earlier null rate (pooled over
    the earlier batches, weighted by their rows)."""
    weights = [e.get("rows") or 1.0 for e in earlier]
    nulls = sum((e.get("null_rate") or 0.0) * w for e, w in zip(earlier, weights, strict=True))
    rate = nulls / sum(weights)
    return float(rate ** max(rows or 1.0, 1.0))
