"""Incremental merge: upsert a source into a Delta table by a unique key.

The source is checked before anything is written: NULL keys raise or are quarantined, and
duplicated keys raise (naming the key and example values) unless `dedupe_by` names a
sequence column, in which case the latest row per key wins deterministically (ties broken by
the row's content hash). Rows matching `delete_when` delete their key from the target.
With `combine` ({column: sum | min | max}), a key already stored keeps an aggregate: the
new row's value is folded into the stored one (a window's sum grows by the new rows' sum),
so an aggregate over new rows only updates its rows in place.
The write is one MERGE made by storage: one Delta version, atomic, carrying the caller's
commit description; an empty source commits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from afluente.engines.protocol import Workspace
from afluente.storage.commits import CommitDescription
from afluente.transform.delta_target import (
    ACTION,
    Target,
    action_counts,
    commit_diff,
    register_target,
)
from afluente.transform.sessions import check_sessions, session_diff
from afluente.transform.source import (
    NullKeyPolicy,
    Source,
    default_workspace,
    reject_duplicates,
    reject_null,
    require_columns,
    split_null_keys,
)
from afluente.transform.sqltext import col_list, equal_on, first_per, ident, row_hash

INCOMING = "__merge_source"
DIFF = "__merge_diff"
STORED = "__merge_stored"
# how each `combine` folds the stored value `t` and the new one `s` (NULL: the other one)
_FOLD = {
    "sum": "coalesce(t.{c} + s.{c}, s.{c}, t.{c})",
    "min": "least(t.{c}, s.{c})",
    "max": "greatest(t.{c}, s.{c})",
}


@dataclass(frozen=True)
class MergeSpec:
    """How to upsert: the unique key and the optional delete / de-duplication rules."""

    keys: tuple[str, ...]
    delete_when: str | None = None  # SQL condition on the source, e.g. "op = 'D'"
    dedupe_by: str | None = None  # sequence column: the latest row per key wins
    on_null_key: NullKeyPolicy = "error"
    except_columns: tuple[str, ...] = ()  # source columns not written (e.g. the op column)
    combine: tuple[tuple[str, str], ...] = ()  # (column, sum | min | max): fold into stored
    session_gap: float | None = None  # seconds: session windows (transform/sessions.py)


@dataclass(frozen=True)
class MergeResult:
    """What a merge did; `version` is None when nothing was committed."""

    version: int | None
    upserted: int
    deleted: int
    quarantined: pa.Table | None = None


def merge(
    target: Target,
    source: Source,
    spec: MergeSpec,
    *,
    commit: CommitDescription | None = None,
    workspace: Workspace | None = None,
) -> MergeResult:
    """Upsert `source` into `target` by `spec.keys` in one Delta commit, computing in
    `workspace` (default: a DuckDB one of its own)."""
    ws = workspace or default_workspace()
    try:
        return _merge(ws, target, source, spec, commit)
    finally:
        if workspace is None:
            ws.close()


def _merge(ws: Workspace, target: Target, source: Source, spec: MergeSpec,
           commit: CommitDescription | None) -> MergeResult:
    available = ws.load(INCOMING, source)
    _check_spec(spec, available, target.label)
    quarantined = split_null_keys(ws, INCOMING, spec.keys, spec.on_null_key, target.label)
    if spec.session_gap is not None:  # rows of one session merge: no duplicate to reject
        columns = [c for c in available if c not in spec.except_columns]
        check_sessions(spec.keys, dict(spec.combine), columns, target.label)
        session_diff(ws, target, INCOMING, DIFF, spec.keys, spec.session_gap,
                     dict(spec.combine), columns)
        upserted, deleted = action_counts(ws, DIFF)
        version = commit_diff(ws, target, DIFF, spec.keys, columns, commit)
        return MergeResult(version, upserted, deleted, quarantined)
    if spec.dedupe_by:
        reject_null(ws, INCOMING, spec.dedupe_by, "dedupe_by", target.label)
        _keep_latest(ws, spec, available)
    else:
        reject_duplicates(ws, INCOMING, spec.keys, target.label)
    if spec.combine:
        _fold_stored(ws, target, spec, available)
    columns = [c for c in available if c not in spec.except_columns]
    is_delete = f"coalesce(({spec.delete_when}), false)" if spec.delete_when else "false"
    ws.create(DIFF, f"SELECT {col_list(columns)}, "
              f"CASE WHEN {is_delete} THEN 'D' ELSE 'U' END AS {ident(ACTION)} FROM {INCOMING}")
    upserted, deleted = action_counts(ws, DIFF)
    version = commit_diff(ws, target, DIFF, spec.keys, columns, commit)
    return MergeResult(version, upserted, deleted, quarantined)


def _check_spec(spec: MergeSpec, available: list[str], table: str) -> None:
    require_columns(available, spec.keys, "unique_key", table)
    require_columns(available, spec.except_columns, "except_columns", table)
    if spec.dedupe_by:
        require_columns(available, [spec.dedupe_by], "dedupe_by", table)
    require_columns(available, [c for c, _ in spec.combine], "combine", table)


def _keep_latest(ws: Workspace, spec: MergeSpec, available: list[str]) -> None:
    """Keep one row per key: the greatest `dedupe_by`, ties broken by the row's hash."""
    assert spec.dedupe_by is not None
    ws.create(INCOMING, first_per(
        f"FROM {INCOMING}", col_list(spec.keys),
        f"{ident(spec.dedupe_by)} DESC, {row_hash(available)} DESC",
    ))


def _fold_stored(ws: Workspace, target: Target, spec: MergeSpec, available: list[str]) -> None:
    """Replace each `combine` column of the incoming rows by its fold with the stored row of
    the same key (only the files that can hold those keys are read)."""
    if not register_target(ws, target, STORED, keys_of=(INCOMING, spec.keys[0])):
        return
    folds = dict(spec.combine)
    values = ", ".join(
        _FOLD[folds[c]].format(c=ident(c)) + f" AS {ident(c)}" if c in folds else f"s.{ident(c)}"
        for c in available
    )
    try:
        ws.create(INCOMING, f"SELECT {values} FROM {INCOMING} s LEFT JOIN {STORED} t "
                            f"ON {equal_on(spec.keys, 's', 't')}")
    finally:
        ws.drop(STORED)
