"""The newest version of a local Delta table, read straight from its `_delta_log`.

`plan` and a run observe every table of the graph: its newest commit (version, afluente's
commit metadata), whether its data files are there and, for a run, its rows. delta-rs
answers that by loading the table, ~0.7 ms of CPU each whatever the options (bench/RESULTS.md
§16.5, §20). For a local table written by afluente the same answers take a listing of
`_delta_log`, the commit files after the newest checkpoint and that checkpoint's `add`
column: the log's replay done here, for these three answers only.

Anything this reader does not handle exactly as the Delta protocol says returns None, and
the caller loads the table with delta-rs as before: a log that does not start at version 0
or at a checkpoint, a gap between versions, a multi-part or v2 checkpoint, reader features
(deletion vectors change the rows a file holds), a file without a commit info, absolute
data paths, a line that is not JSON (damage: delta-rs's error and `damage.py` name it).
Remote stores never come here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from afluente.storage.damage import LAST_CHECKPOINT, LOG

_COMMIT_NAME_LENGTH = 20 + len(".json")


@dataclass(frozen=True)
class LogHead:
    """The newest version, its commit info (as delta-rs's `history(1)` gives it), the data
    files it holds and their rows summed from the log's statistics (None: a file without)."""

    version: int
    commit: dict[str, Any]
    files: list[Path]
    rows: int | None


class _Unhandled(Exception):
    """The log holds something this reader leaves to delta-rs."""


def read_head(table_dir: Path) -> LogHead | None:
    """The table's newest version from its log, or None when delta-rs must answer."""
    try:
        return _read(table_dir)
    except (_Unhandled, OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _read(table_dir: Path) -> LogHead:
    log = table_dir / LOG
    commits = _commit_versions(log)
    checkpoint = _checkpoint_version(log)
    start = 0 if checkpoint is None else checkpoint + 1
    newest = max(commits) if commits else -1
    if newest < 0 or newest < (checkpoint or 0):
        raise _Unhandled("no commit after the checkpoint")
    wanted = range(start, newest + 1)
    if any(version not in commits for version in wanted):
        raise _Unhandled("a version is missing")
    live: dict[str, int | None] = {}
    if checkpoint is not None:
        live = _checkpoint_files(log / f"{checkpoint:020d}.checkpoint.parquet")
    commit: dict[str, Any] | None = None
    for version in wanted:
        commit = _replay(log / f"{version:020d}.json", live)
    if checkpoint == newest:  # the checkpoint holds its version's files, the commit its info
        commit = _replay(log / f"{newest:020d}.json", {})
    if commit is None or "timestamp" not in commit:
        raise _Unhandled("the newest commit has no commit info")
    counts = list(live.values())
    rows = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
    files = [table_dir / unquote(path) for path in live]
    return LogHead(newest, {**commit, "version": newest}, files, rows)


def _commit_versions(log: Path) -> set[int]:
    with os.scandir(log) as entries:
        names = [e.name for e in entries]
    return {
        int(name[:20]) for name in names
        if len(name) == _COMMIT_NAME_LENGTH and name.endswith(".json") and name[:20].isdigit()
    }


def _checkpoint_version(log: Path) -> int | None:
    hint_path = log / LAST_CHECKPOINT
    if not hint_path.exists():
        return None
    hint = json.loads(hint_path.read_text(encoding="utf-8"))
    if hint.get("parts") or "v2Checkpoint" in json.dumps(hint):
        raise _Unhandled("a multi-part or v2 checkpoint")
    return int(hint["version"])


def _checkpoint_files(path: Path) -> dict[str, int | None]:
    """The live data files of a classic single-file checkpoint, with their row counts."""
    import pyarrow.parquet as pq  # only tables that have a checkpoint need it

    table = pq.read_table(path, columns=["add", "protocol"])
    for protocol in table.column("protocol").to_pylist():
        _check_protocol(protocol)
    live: dict[str, int | None] = {}
    for add in table.column("add").to_pylist():
        if add is not None:
            if not add.get("stats"):
                raise _Unhandled("statistics only in stats_parsed")
            _add(live, add)
    return live


def _replay(path: Path, live: dict[str, int | None]) -> dict[str, Any] | None:
    """Apply one commit file's actions to `live`; its commit info."""
    commit = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        action = json.loads(line)
        if "add" in action:
            _add(live, action["add"])
        elif "remove" in action:
            live.pop(action["remove"]["path"], None)
        elif "commitInfo" in action:
            commit = action["commitInfo"]
        elif "protocol" in action:
            _check_protocol(action["protocol"])
    return commit


def _add(live: dict[str, int | None], add: dict[str, Any]) -> None:
    path = add["path"]
    if add.get("deletionVector") or "://" in path or path.startswith("/"):
        raise _Unhandled("a deletion vector or an absolute path")
    stats = json.loads(add["stats"]) if add.get("stats") else {}
    records = stats.get("numRecords")
    live[path] = int(records) if records is not None else None


def _check_protocol(protocol: dict[str, Any] | None) -> None:
    if protocol and protocol.get("readerFeatures"):
        raise _Unhandled(f"reader features {protocol['readerFeatures']}")


def newest_commit(table_dir: Path) -> int | None:
    """The newest commit version in a local table's `_delta_log` (one listing), or None when
    it has no log: a mark that changes with every write (and so with every schema change)."""
    try:
        versions = _commit_versions(table_dir / LOG)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return max(versions, default=None)
