"""The target side of every kind: expose it to the workspace, commit a diff in one version.

A kind computes a *diff* against the target: rows to upsert (`U`) and rows to delete (`D`),
identified by an identity (the unique key for a merge, key + validity start for SCD2). The
diff is committed by storage (`Target.upsert`, one Delta MERGE), so the write is one atomic
Delta version and a failure leaves the target at its previous version. An empty diff commits
nothing, which is what makes re-applying the same input a no-op.

The MERGE is pruned: the target's files each cover a range of the identity's first column
(their statistics in the Delta log; a first version is written ordered by the identity), the
workspace finds the ranges the diff's keys fall in, and storage's MERGE reads and rewrites
only those files. A diff of new keys beyond every file rewrites nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from afluente.engines.protocol import Workspace
from afluente.storage.commits import CommitDescription
from afluente.storage.target import ACTION, DELETE, UPSERT, KeyRange, Target
from afluente.transform.sqltext import col_list, ident

__all__ = ["ACTION", "Target", "action_counts", "commit_diff", "register_target",
           "touched_ranges"]

RANGES = "__afluente_key_ranges"


def register_target(ws: Workspace, target: Target, name: str,
                    keys_of: tuple[str, str] | None = None) -> bool:
    """Expose the target's latest version to the workspace as an Arrow dataset (projection
    and filter pushdown); False when the table was never written. `keys_of=(table, key)`:
    only the files whose range of `key` holds a key of temp table `table` (the stored rows
    of those keys are all there), when the files' statistics bound it."""
    within = None
    if keys_of is not None:
        ranges = touched_ranges(ws, target, keys_of[0], keys_of[1])
        within = None if ranges is None else (keys_of[1], ranges)
    dataset = target.dataset(within)
    if dataset is None:
        return False
    ws.expose(name, dataset)
    return True


def commit_diff(
    ws: Workspace,
    target: Target,
    diff: str,
    identity: Sequence[str],
    columns: Sequence[str],
    commit: CommitDescription | None,
) -> int | None:
    """Commit temp table `diff` (`columns` + ACTION) to the target; the new version or None.

    Nothing is committed when the diff is empty.
    """
    if not ws.scalar(f"SELECT count(*) FROM {ident(diff)}"):
        return None
    if not target.exists():  # ordered, so that each file covers a narrow key range
        rows = ws.stream(f"SELECT {col_list(columns)} FROM {ident(diff)} "
                         f"WHERE {ident(ACTION)} = '{UPSERT}' ORDER BY {col_list(identity)}")
        return target.create(rows, commit)
    within = touched_ranges(ws, target, diff, identity[0])
    source = ws.stream(f"SELECT {col_list([*columns, ACTION])} FROM {ident(diff)}")
    return target.upsert(source, identity, columns, commit, within=within)


def touched_ranges(ws: Workspace, target: Target, diff: str, key: str) -> list[KeyRange] | None:
    """The key ranges of the target's files (`key` is the identity's first column) that
    hold a key of temp table `diff`: the only files a stored row matching the diff can be
    in. None when the files' statistics do not bound the key (the MERGE reads everything)."""
    ranges = target.key_ranges(key)
    if not ranges:
        return ranges
    lows, highs = zip(*ranges, strict=True)
    ws.expose(RANGES, pa.table({"lo": pa.array(lows), "hi": pa.array(highs)}))
    try:
        rows = ws.rows(  # a range join both engines plan (DuckDB and Spark SQL)
            f"SELECT DISTINCT r.lo, r.hi FROM {RANGES} r JOIN {ident(diff)} d "
            f"ON d.{ident(key)} >= r.lo AND d.{ident(key)} <= r.hi"
        )
    finally:
        ws.drop(RANGES)
    return [(lo, hi) for lo, hi in rows]


def action_counts(ws: Workspace, diff: str) -> tuple[int, int]:
    """How many rows of `diff` upsert and how many delete."""
    rows = ws.rows(
        f"SELECT count(CASE WHEN {ident(ACTION)} = '{UPSERT}' THEN 1 END), "
        f"count(CASE WHEN {ident(ACTION)} = '{DELETE}' THEN 1 END) FROM {ident(diff)}"
    )
    return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)
