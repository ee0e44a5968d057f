"""Apply changes (CDC): fold a change feed into an SCD type 1 or type 2 Delta table.

Each batch is folded in by recomputing the rows of the keys it touches from *all* their
events: the new ones plus those the table already holds. The stored rows are a pure
function of the set of events, so events may arrive in any order, twice, or split over any
number of batches, and the table is the same. The bookkeeping that makes this possible
lives in hidden columns (`__cdc_*`); readers see `visible_rows_sql(...)`. See
docs/kinds.md for the exact semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from afluente.engines.protocol import Workspace
from afluente.storage.commits import CommitDescription
from afluente.transform.cdc_state import (
    DELETED,
    EVENTS,
    HIDDEN,
    IS_CURRENT,
    SEQUENCE,
    VALID_FROM,
    VALID_TO,
    VISIBLE,
    scd1_rows,
    scd2_rows,
)
from afluente.transform.delta_target import (
    ACTION,
    Target,
    action_counts,
    commit_diff,
    register_target,
)
from afluente.transform.errors import KindSpecError
from afluente.transform.source import (
    NullKeyPolicy,
    Source,
    default_workspace,
    reject_null,
    require_columns,
    split_null_keys,
)
from afluente.transform.sqltext import col_list, equal_on, first_per, ident, row_hash

INCOMING, TARGET, OLD = "__cdc_incoming", "__cdc_target", "__cdc_old"
NEW, DIFF = "__cdc_new", "__cdc_diff"


@dataclass(frozen=True)
class ChangeFeedSpec:
    """How to read a change feed and how to store it."""

    keys: tuple[str, ...]
    sequence_by: str
    apply_as_deletes: str | None = None  # SQL condition on the feed, e.g. "op = 'D'"
    except_columns: tuple[str, ...] = ()  # feed columns not stored (e.g. the op column)
    scd_type: Literal[1, 2] = 1
    track_history_columns: tuple[str, ...] | None = None  # SCD2: new version only on these
    on_null_key: NullKeyPolicy = "error"


@dataclass(frozen=True)
class ApplyResult:
    """What a batch did; `version` is None when the table did not change."""

    version: int | None
    events: int
    rows_written: int
    rows_removed: int
    quarantined: pa.Table | None = None


def apply_changes(
    target: Target,
    source: Source,
    spec: ChangeFeedSpec,
    *,
    commit: CommitDescription | None = None,
    workspace: Workspace | None = None,
) -> ApplyResult:
    """Fold one batch of change events into `target` in one Delta commit, computing in
    `workspace` (default: a DuckDB one of its own)."""
    ws = workspace or default_workspace()
    try:
        return _apply(ws, target, source, spec, commit)
    finally:
        if workspace is None:
            ws.close()


def _apply(ws: Workspace, target: Target, source: Source, spec: ChangeFeedSpec,
           commit: CommitDescription | None) -> ApplyResult:
    available = ws.load(INCOMING, source)
    columns = _stored_columns(spec, available, target.label)
    quarantined = split_null_keys(ws, INCOMING, spec.keys, spec.on_null_key, target.label)
    reject_null(ws, INCOMING, spec.sequence_by, "sequence_by", target.label)
    # only the files that can hold the batch's keys: the stored events read are those keys'
    has_target = register_target(ws, target, TARGET, keys_of=(INCOMING, spec.keys[0]))
    _collect_events(ws, spec, columns, has_target=has_target)
    rows = (
        scd1_rows(spec.keys, columns)
        if spec.scd_type == 1
        else scd2_rows(spec.keys, columns, _tracked(spec, columns))
    )
    ws.create(NEW, rows)
    identity = [*spec.keys] if spec.scd_type == 1 else [*spec.keys, SEQUENCE, VISIBLE]
    stored = ws.columns(NEW)
    written, removed = _diff(ws, identity, stored, has_target=has_target)
    version = commit_diff(ws, target, DIFF, identity, stored, commit)
    events = ws.scalar(f"SELECT count(*) FROM {INCOMING}")
    return ApplyResult(version, int(events or 0), written, removed, quarantined)


def visible_scan(schema: pa.Schema) -> tuple[list[str], pc.Expression | None]:
    """Columns and row filter for reading a stored table with Arrow as its readers see it:
    an apply_changes table (it has the bookkeeping columns) without them and their rows."""
    if VISIBLE not in schema.names:
        return list(schema.names), None
    columns = [name for name in schema.names if name not in HIDDEN]
    return columns, pc.field(VISIBLE) == True  # noqa: E712 (an Arrow expression, not a bool)


def visible_row_count(dataset: pads.Dataset) -> int:
    """Rows a reader of the stored table sees (an apply_changes table's bookkeeping rows
    excluded)."""
    _, visible = visible_scan(dataset.schema)
    return int(dataset.count_rows(filter=visible))


def visible_rows_sql(table_sql: str, scd_type: Literal[1, 2]) -> str:
    """The query readers use: the user's rows, without the bookkeeping columns."""
    del scd_type  # both types mark their user-facing rows the same way
    return f"SELECT * EXCLUDE ({col_list(HIDDEN)}) FROM {table_sql} WHERE {VISIBLE}"


def _stored_columns(spec: ChangeFeedSpec, available: list[str], table: str) -> list[str]:
    require_columns(available, spec.keys, "keys", table)
    require_columns(available, [spec.sequence_by], "sequence_by", table)
    require_columns(available, spec.except_columns, "except_columns", table)
    if set(spec.keys) & set(spec.except_columns):
        raise KindSpecError(
            "except_columns cannot drop a key column",
            table=table,
            hint="remove the key from except_columns",
        )
    columns = [c for c in available if c not in spec.except_columns]
    reserved = {*HIDDEN, VALID_FROM, VALID_TO, IS_CURRENT} & set(columns)
    if reserved:
        raise KindSpecError(
            f"the change feed has column(s) {', '.join(sorted(reserved))}, which "
            "apply_changes uses for its own bookkeeping",
            table=table,
            hint="rename them in the model's query, or list them in except_columns",
        )
    if spec.track_history_columns is not None:
        require_columns(columns, spec.track_history_columns, "track_history_columns", table)
    return columns


def _tracked(spec: ChangeFeedSpec, columns: Sequence[str]) -> list[str]:
    """The columns whose change opens a new SCD2 version (never the keys or the sequence)."""
    if spec.track_history_columns is not None:
        return list(spec.track_history_columns)
    return [c for c in columns if c not in spec.keys and c != spec.sequence_by]


def _collect_events(
    ws: Workspace, spec: ChangeFeedSpec, columns: list[str], has_target: bool
) -> None:
    """Events of the touched keys: the batch's plus those the table holds, one per sequence.

    Two events with the same key and sequence are one event: a delete wins, then the
    greater content hash, so the choice never depends on arrival order.
    """
    is_delete = "false"
    if spec.apply_as_deletes:
        is_delete = f"coalesce(({spec.apply_as_deletes}), false)"
    incoming = (
        f"SELECT {col_list(columns)}, {ident(spec.sequence_by)} AS {SEQUENCE}, "
        f"{is_delete} AS {DELETED} FROM {INCOMING}"
    )
    if has_target:
        touched = f"SELECT DISTINCT {col_list(spec.keys)} FROM {INCOMING}"
        ws.create(OLD, f"SELECT t.* FROM {TARGET} t "
                  f"SEMI JOIN ({touched}) b ON {equal_on(spec.keys, 't', 'b')}")
        held = f"SELECT {col_list(columns)}, {SEQUENCE}, {DELETED} FROM {OLD}"
        if spec.scd_type == 2:
            held += f" WHERE NOT {VISIBLE}"
        incoming = f"{incoming} UNION ALL {held}"  # the same columns in the same order
    ws.create(EVENTS, first_per(incoming, f"{col_list(spec.keys)}, {SEQUENCE}",
                                f"{DELETED} DESC, {row_hash(columns)} DESC"))


def _diff(
    ws: Workspace, identity: list[str], stored: list[str], has_target: bool
) -> tuple[int, int]:
    """Rows to write (new or changed) and rows to remove, against the stored rows."""
    on = equal_on(identity, "n", "o")
    if not has_target:
        ws.create(DIFF, f"SELECT *, 'U' AS {ident(ACTION)} FROM {NEW}")
    else:
        ws.create(
            DIFF,
            f"SELECT {col_list(stored, 'n')}, 'U' AS {ident(ACTION)} FROM {NEW} n "
            f"LEFT JOIN {OLD} o ON {on} WHERE o.{ident(identity[0])} IS NULL "
            f"OR {row_hash(stored, 'n')} IS DISTINCT FROM {row_hash(stored, 'o')} "
            f"UNION ALL SELECT {col_list(stored, 'o')}, 'D' AS {ident(ACTION)} FROM {OLD} o "
            f"ANTI JOIN {NEW} n ON {on}"
        )
    return action_counts(ws, DIFF)
