"""Time travel: load a Delta table at a version or as of a moment, or say why not.

delta-rs answers a negative version with an `OverflowError`, a version past the latest with
a kernel message that does not name the latest, and a moment before the table existed with
its first version. Each is checked here first and refused with the versions that do exist.
"""

from __future__ import annotations

from datetime import UTC, datetime

from deltalake import DeltaTable

from afluente.errors import StorageError
from afluente.model import TableRef
from afluente.storage.commits import CommitInfo


def load_at(
    table: DeltaTable, ref: TableRef, version: int | None, as_of: datetime | str | None
) -> None:
    """Move `table` (opened at its latest version) to `version` or to `as_of`."""
    if version is not None:
        _check_version(table, ref, version)
        table.load_as_version(version)
    elif as_of is not None:
        moment = as_utc(as_of)
        _check_existed(table, ref, moment)
        table.load_as_version(moment)


def describe_wanted(version: int | None, as_of: datetime | str | None) -> str:
    """`at version 3`, `as of 2026-…`, or nothing for the latest version."""
    if version is not None:
        return f" at version {version}"
    if as_of is not None:
        return f" as of {as_of}"
    return ""


def as_utc(moment: datetime | str) -> datetime:
    """An aware datetime (naive values and ISO strings without an offset are UTC)."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            raise StorageError(
                f"invalid time {moment!r}",
                hint="use ISO 8601, e.g. 2026-11-23T10:00:00Z or 2026-11-23",
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_version(table: DeltaTable, ref: TableRef, version: int) -> None:
    latest = table.version()
    if 0 <= version <= latest:
        return
    why = "versions start at 0" if version < 0 else "no such version was ever written"
    raise StorageError(
        f"`{ref}` has no version {version} ({why}); its latest version is {latest}",
        table=str(ref),
        hint=f"pick a version from 0 to {latest}; `afluente history {ref}` lists them",
    )


def _check_existed(table: DeltaTable, ref: TableRef, moment: datetime) -> None:
    first = _oldest_commit(table)
    if first is None or moment >= first.timestamp:
        return
    created = f"{first.timestamp:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"
    raise StorageError(
        f"`{ref}` did not exist as of {moment.isoformat()}: its oldest version "
        f"({first.version}) was written at {created}",
        table=str(ref),
        hint=f"use --as-of {created} or later; `afluente history {ref}` lists the versions",
    )


def _oldest_commit(table: DeltaTable) -> CommitInfo | None:
    commits = [CommitInfo.from_history(entry) for entry in table.history()]
    return min(commits, key=lambda c: c.version) if commits else None
