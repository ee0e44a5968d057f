"""The rows appended to a Delta table between two versions, when maintenance rewrote files
in between.

Compaction and Z-order (`afluente maintain`) remove files and add others holding the same
rows, with `dataChange: false` on both actions. Between two versions of a table that only
had appends and such rewrites, the rows new since the older version are exactly those of the
files added with `dataChange: true` — as long as each of them is still in the newer version
(a rewrite that took one in mixed its rows with older ones: then nobody can tell them apart).
Any removal with `dataChange: true` (an overwrite, a delete, a merge) means rows changed.

Read from the commit files of a local table's log (delta-rs does not expose the actions of
one commit); None when that cannot tell, and the caller reads everything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

from afluente.storage.damage import LOG


def appended_across_rewrites(root: Path, since: int, version: int, now: Iterable[str]
                             ) -> tuple[str, ...] | None:
    """The files of `now` (the newer version's, relative paths) holding the rows appended
    after `since`; None when a commit in between changed rows otherwise, or a file that
    held appended rows was rewritten, or the log no longer has a commit in between."""
    appended: set[str] = set()
    for number in range(since + 1, version + 1):
        actions = _actions(root / LOG / f"{number:020d}.json")
        if actions is None:
            return None
        for action in actions:
            if "remove" in action and action["remove"].get("dataChange", True):
                return None
            added = action.get("add")
            if added is not None and added.get("dataChange", True):
                appended.add(unquote(str(added["path"])))
    current = list(now)
    if not appended.issubset(current):
        return None
    return tuple(f for f in current if f in appended)


def _actions(path: Path) -> list[dict[str, dict[str, object]]] | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return [json.loads(line) for line in lines if line.strip()]


__all__ = ["appended_across_rewrites"]
