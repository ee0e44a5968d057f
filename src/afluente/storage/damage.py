"""Find what is damaged in a local Delta table: a commit file of its `_delta_log` that is
not valid JSON, a `_last_checkpoint` that names a missing checkpoint, or a data file the
current version references that is gone.

delta-rs reports such damage as a parse error without naming the file (and with a Rust
backtrace when `RUST_BACKTRACE` is set); these checks name the file so the error can say
which one and what to do. They read only the log (small JSON files) or stat data files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from afluente.errors import DamagedTableError
from afluente.model import TableRef

LOG = "_delta_log"
LAST_CHECKPOINT = "_last_checkpoint"


@dataclass(frozen=True)
class Damage:
    """One damaged file of a table: where it is and what is wrong with it."""

    path: Path
    problem: str
    version: int | None = None  # the log version the file belongs to, when it has one

    def describe(self) -> str:
        return f"{self.path} {self.problem}"


def commit_version(path: Path) -> int | None:
    """The version of a `_delta_log` commit or checkpoint file, from its name."""
    head = path.name.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def commit_files(table_dir: Path) -> list[Path]:
    """The table's commit files (`<version>.json`), oldest first."""
    log = table_dir / LOG
    if not log.is_dir():
        return []
    found = [p for p in log.glob("*.json") if commit_version(p) is not None]
    return sorted(found, key=lambda p: commit_version(p) or 0)


def log_damage(table_dir: Path) -> Damage | None:
    """The first damaged file of the table's log (checkpoint hint first, then the oldest
    unreadable commit), or None when every file parses."""
    hint = _checkpoint_hint_damage(table_dir)
    if hint is not None:
        return hint
    for path in commit_files(table_dir):
        problem = _json_lines_problem(path)
        if problem is not None:
            return Damage(path, problem, commit_version(path))
    return None


def readable_commits(table_dir: Path) -> list[dict[str, Any]]:
    """The commit info of every commit file that parses, newest first, each with its
    version (what `history` can still show of a damaged table)."""
    found: list[dict[str, Any]] = []
    for path in reversed(commit_files(table_dir)):
        if _json_lines_problem(path) is not None:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            action = json.loads(line) if line.strip() else {}
            if "commitInfo" in action:
                found.append({**action["commitInfo"], "version": commit_version(path)})
    return found


def last_checkpoint(table_dir: Path) -> int | None:
    """The version `_last_checkpoint` names, when it is readable."""
    try:
        hint = json.loads((table_dir / LOG / LAST_CHECKPOINT).read_text(encoding="utf-8"))
        return int(hint["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _checkpoint_hint_damage(table_dir: Path) -> Damage | None:
    path = table_dir / LOG / LAST_CHECKPOINT
    if not path.exists():
        return None
    version = last_checkpoint(table_dir)
    if version is None:
        return Damage(path, "is not a valid checkpoint hint (unreadable JSON)")
    if not list((table_dir / LOG).glob(f"{version:020d}.checkpoint*.parquet")):
        return Damage(path, f"names checkpoint v{version}, whose file is missing", version)
    return None


def _json_lines_problem(path: Path) -> str | None:
    """Why a commit file cannot be read (each line is one JSON action), or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot be read ({exc})"
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return "is empty"
    for number, line in enumerate(lines, start=1):
        try:
            json.loads(line)
        except ValueError as exc:
            return f"is not valid JSON (line {number}: {exc})"
    return None


def missing_files(uris: list[str]) -> list[Path]:
    """The local data files (as delta-rs lists them) that are not on disk."""
    paths = [Path(uri.removeprefix("file://")) for uri in uris]
    return [path for path in paths if not path.exists()]


def damaged(ref: TableRef, detail: str) -> DamagedTableError:
    """The error for a damaged table: which table, which file, and the way out."""
    return DamagedTableError(
        f"table `{ref}` is damaged: {detail}",
        table=str(ref),
        hint=f"run `afluente repair {ref} --restore` (back to its last readable version) or "
        f"`afluente repair {ref} --rebuild` (rebuild it from upstream); `afluente repair "
        f"{ref}` alone says what each would lose",
    )


def first_line(exc: BaseException) -> str:
    """An exception's message without the Rust backtrace delta-rs appends to it when
    `RUST_BACKTRACE` is set."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
