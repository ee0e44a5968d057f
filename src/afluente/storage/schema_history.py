"""How a table's schema changed over its Delta versions: columns added, removed, retyped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
from deltalake import DeltaTable

from afluente.storage.commits import CommitInfo


@dataclass(frozen=True)
class SchemaChange:
    """The schema a version introduced, compared with the version before it."""

    version: int
    timestamp: datetime
    run_id: str | None
    columns: tuple[tuple[str, str], ...]
    added: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if not (self.added or self.removed or self.retyped):
            return f"created with {len(self.columns)} columns"
        parts = [f"+{n} {t}" for n, t in self.added]
        parts += [f"-{n} {t}" for n, t in self.removed]
        parts += [f"~{n} {old} → {new}" for n, old, new in self.retyped]
        return ", ".join(parts)


def _columns(schema: pa.Schema) -> dict[str, str]:
    return {f.name: str(f.type) for f in schema}


def schema_changes(table: DeltaTable, commits: list[CommitInfo]) -> list[SchemaChange]:
    """The versions (oldest first) whose schema differs from the one before; `commits` is the
    table's history. Each version is loaded once, in ascending order."""
    changes: list[SchemaChange] = []
    previous: dict[str, str] | None = None
    for commit in sorted(commits, key=lambda c: c.version):
        table.load_as_version(commit.version)
        current = _columns(pa.schema(table.schema().to_arrow()))
        if previous is None:
            changes.append(_change(commit, current))
        elif current != previous:
            changes.append(_change(commit, current, previous))
        previous = current
    return changes


def _change(
    commit: CommitInfo, current: dict[str, str], previous: dict[str, str] | None = None
) -> SchemaChange:
    columns = tuple(current.items())
    if previous is None:
        return SchemaChange(commit.version, commit.timestamp, commit.run_id, columns)
    return SchemaChange(
        commit.version,
        commit.timestamp,
        commit.run_id,
        columns,
        added=tuple((n, t) for n, t in current.items() if n not in previous),
        removed=tuple((n, t) for n, t in previous.items() if n not in current),
        retyped=tuple(
            (n, previous[n], t) for n, t in current.items() if n in previous and previous[n] != t
        ),
    )
