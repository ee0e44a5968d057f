"""Classify a model's change against its base: breaking (its downstream must rebuild) or
non-breaking (columns added, descriptions changed), with a column-level diff of its SQL.
A pure function of two definitions (what `definition` records of a model)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from afluente.model import Graph, Node, TableRef

Category = Literal["new", "breaking", "non-breaking"]
#: config keys that describe a model without changing its data
DESCRIPTIVE = frozenset({"description", "tags", "owner", "meta"})
CONFIG_BLOCK = re.compile(r"^\s*/\*\s*@config.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class ColumnDiff:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {"added": list(self.added), "removed": list(self.removed),
                "modified": list(self.modified)}

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.modified)


@dataclass(frozen=True)
class ModelChange:
    table: str
    category: Category
    reason: str
    columns: ColumnDiff

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "category": self.category, "reason": self.reason,
                "columns": self.columns.as_dict()}


def definition(node: Node, fingerprint: str) -> dict[str, Any]:
    """What a change is judged on: the SQL (or Python code), and the config split into the
    keys that shape data and those that only describe it."""
    config = node.config.model_dump(mode="json", exclude_defaults=True)
    columns = config.pop("columns", None) or {}
    described = {k: config.pop(k) for k in sorted(DESCRIPTIVE & set(config))}
    shaping_columns = {name: {k: v for k, v in (spec or {}).items() if k not in DESCRIPTIVE}
                       for name, spec in columns.items()}
    return {"fingerprint": fingerprint, "language": node.language, "sql": node.sql,
            "code": node.code if node.language != "sql" else None,
            "config": {**config, "columns": shaping_columns}, "described": {
                **described, "columns": {n: s for n, s in columns.items() if s}}}


def classify(table: str, old: dict[str, Any] | None, new: dict[str, Any]) -> ModelChange:
    """How `new` differs from `old` (None: the base has no such model)."""
    if old is None:
        return ModelChange(table, "new", "not in the base", ColumnDiff())
    if old.get("config") != new["config"]:
        keys = sorted(k for k in {*old.get("config", {}), *new["config"]}
                      if old.get("config", {}).get(k) != new["config"].get(k))
        return ModelChange(table, "breaking", f"config changed: {', '.join(keys)}",
                           ColumnDiff())
    if new["language"] == "source":
        return ModelChange(table, "breaking", "source definition changed", ColumnDiff())
    if new["language"] != "sql" or old.get("language") != "sql":
        if old.get("code") == new.get("code") and old.get("sql") == new.get("sql"):
            return ModelChange(table, "non-breaking", "descriptions changed", ColumnDiff())
        return ModelChange(table, "breaking", "code changed (a Python model's output "
                           "cannot be compared column by column)", ColumnDiff())
    return _classify_sql(table, old.get("sql") or "", new["sql"] or "")


def _classify_sql(table: str, old_sql: str, new_sql: str) -> ModelChange:
    import sqlglot
    from sqlglot import exp

    old_sql, new_sql = _body(old_sql), _body(new_sql)
    if _normal(old_sql) == _normal(new_sql):
        return ModelChange(table, "non-breaking", "descriptions changed", ColumnDiff())
    try:
        old = sqlglot.parse_one(old_sql, read="duckdb")
        new = sqlglot.parse_one(new_sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return ModelChange(table, "breaking", "SQL changed (not parsed)", ColumnDiff())
    if not isinstance(old, exp.Select) or not isinstance(new, exp.Select):
        return ModelChange(table, "breaking", "SQL changed (not a single SELECT)", ColumnDiff())
    before, after = _projections(old), _projections(new)
    columns = ColumnDiff(
        added=tuple(c for c in after if c not in before),
        removed=tuple(c for c in before if c not in after),
        modified=tuple(c for c in after if c in before and before[c] != after[c]),
    )
    if _rest(old) != _rest(new):
        return ModelChange(table, "breaking", "rows change: FROM, WHERE, JOIN, GROUP BY or "
                           "another clause differs", columns)
    if columns.removed or columns.modified:
        changed = [*columns.removed, *columns.modified]
        return ModelChange(table, "breaking", f"column(s) removed or redefined: "
                           f"{', '.join(changed)}", columns)
    if new.args.get("distinct") and columns.added:
        return ModelChange(table, "breaking", "a column added to SELECT DISTINCT changes "
                           "its rows", columns)
    return ModelChange(table, "non-breaking", f"column(s) added: {', '.join(columns.added)}"
                       if columns.added else "same columns, SQL reformatted", columns)


def _body(sql: str) -> str:
    """The SQL without its leading `/* @config ... */` block."""
    return CONFIG_BLOCK.sub("", sql, count=1)


def _normal(sql: str) -> str:
    return " ".join(sql.split())


def _projections(select: Any) -> dict[str, str]:
    return {e.alias_or_name: e.unalias().sql(dialect="duckdb", comments=False)
            for e in select.selects}


def _rest(select: Any) -> str:
    """The query without its projection list: what decides its rows."""
    bare = select.copy()
    bare.set("expressions", [])
    return str(bare.sql(dialect="duckdb", comments=False))


def rebuilt_downstream(graph: Graph, changes: list[ModelChange]) -> dict[str, str]:
    """The stored tables downstream of a breaking or new change, and which change: they
    are rebuilt in the environment too."""
    found: dict[str, str] = {}
    changed = {c.table for c in changes}
    for change in changes:
        if change.category == "non-breaking":
            continue
        for ref in sorted(graph.downstream_of({TableRef.parse(change.table)}), key=str):
            if str(ref) not in changed and graph[ref].materialized:
                found.setdefault(str(ref), change.table)
    return found
