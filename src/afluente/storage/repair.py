"""Repair a damaged local Delta table, keeping every file it moves.

Two ways out, chosen by the user (`afluente repair`):

* **set aside** (before a rebuild from upstream): the whole table folder moves to
  `<warehouse>/_damaged/<layer>.<table>-<time>`; the rebuild then writes a new table at v0.
* **restore the last readable version**: damaged log files (and the commits after them,
  which cannot be replayed past a gap) move to that same kind of folder, so the table's
  latest version becomes the newest one that reads; when a data file of that version is
  missing, a Delta RESTORE commit brings back the newest version whose files are all there.

Each returns what was lost, in words, so the CLI can say it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from afluente.errors import StorageError
from afluente.model import TableRef
from afluente.storage.damage import (
    LAST_CHECKPOINT,
    LOG,
    Damage,
    commit_files,
    commit_version,
    first_line,
    last_checkpoint,
    log_damage,
    missing_files,
)

DAMAGED = "_damaged"


@dataclass
class Restored:
    """The outcome of a restore: the table's version now, and what is gone from it."""

    version: int
    lost: list[str] = field(default_factory=list)
    kept_at: Path | None = None  # where the moved files are
    rewound: bool = False  # a RESTORE commit was made (the later commits stay in the log)


def aside_dir(root: Path, ref: TableRef) -> Path:
    """A new folder under the warehouse for the files taken out of `ref`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return root / DAMAGED / f"{ref.layer}.{ref.name}-{stamp}"


def set_aside(root: Path, table_dir: Path, ref: TableRef) -> Path:
    """Move the whole table folder out of the warehouse; where it went."""
    target = aside_dir(root, ref)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.move(table_dir, target)
    except OSError as exc:
        raise StorageError(
            f"cannot move the damaged table `{ref}` from {table_dir} to {target}: {exc}",
            table=str(ref), hint=f"check that {table_dir.parent} is writable",
        ) from exc
    return target


def restore_readable(root: Path, table_dir: Path, ref: TableRef) -> Restored:
    """Bring `ref` back to its last readable version (see the module docstring)."""
    aside = aside_dir(root, ref)
    lost: list[str] = []
    for _ in range(len(commit_files(table_dir)) + 2):  # each pass removes one damage
        damage = log_damage(table_dir)
        if damage is None:
            break
        lost.extend(_cut_log(table_dir, damage, aside, ref))
    rewound = _restore_complete_version(table_dir, _load(table_dir, ref), ref)
    lost.extend(rewound)
    return Restored(_load(table_dir, ref).version(), lost, aside if aside.exists() else None,
                    bool(rewound))


def _cut_log(table_dir: Path, damage: Damage, aside: Path, ref: TableRef) -> list[str]:
    """Move the damaged log file(s) aside; what that loses."""
    if damage.path.name == LAST_CHECKPOINT:
        _move(damage.path, aside)
        return []  # a hint only: the commits are replayed instead
    assert damage.version is not None
    checkpoint = last_checkpoint(table_dir)
    if checkpoint is not None and checkpoint >= damage.version:
        _move(damage.path, aside)  # the checkpoint holds the state: only history is lost
        return [f"the history entry of v{damage.version} ({damage.path.name} {damage.problem})"]
    later = [p for p in (table_dir / LOG).iterdir()
             if (commit_version(p) or -1) >= damage.version]
    if damage.version == 0 or not later:
        raise StorageError(
            f"table `{ref}` has no readable version: {damage.describe()}",
            table=str(ref), hint=f"rebuild it from upstream: `afluente repair {ref} --rebuild`",
        )
    newest = max(commit_version(p) or 0 for p in later)
    for path in later:
        _move(path, aside)
    span = f"v{damage.version}" if newest == damage.version else f"v{damage.version}-v{newest}"
    return [f"{span}: {damage.path.name} {damage.problem}"]


def _restore_complete_version(table_dir: Path, table: DeltaTable, ref: TableRef) -> list[str]:
    """When the latest version misses data files, RESTORE the newest complete one."""
    missing = missing_files(table.file_uris())
    if not missing:
        return []
    latest = table.version()
    for version in range(latest - 1, -1, -1):
        older = _load(table_dir, ref, version)
        if not missing_files(older.file_uris()):
            try:
                table.restore(version)
            except (DeltaError, OSError) as exc:
                raise StorageError(f"restoring `{ref}` to v{version} failed: "
                                   f"{first_line(exc)}", table=str(ref)) from exc
            return [f"the content of v{version + 1}-v{latest} (data file {missing[0]} "
                    f"is missing; the table now holds v{version}'s rows)"]
    raise StorageError(
        f"table `{ref}` has no version whose data files are all present "
        f"({missing[0]} is missing)",
        table=str(ref), hint=f"rebuild it from upstream: `afluente repair {ref} --rebuild`",
    )


def _load(table_dir: Path, ref: TableRef, version: int | None = None) -> DeltaTable:
    try:
        return DeltaTable(str(table_dir), version=version)
    except (DeltaError, OSError, ValueError) as exc:
        raise StorageError(
            f"table `{ref}` still cannot be read after repair: {first_line(exc)}",
            table=str(ref), hint=f"rebuild it from upstream: `afluente repair {ref} --rebuild`",
        ) from exc


def _move(path: Path, aside: Path) -> None:
    target = aside / LOG if path.parent.name == LOG else aside
    target.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target / path.name)
