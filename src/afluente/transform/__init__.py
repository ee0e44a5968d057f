"""The algorithms of the incremental table kinds, on DuckDB + delta-rs.

Each kind is one function from (target Delta table, source rows, spec) to one atomic Delta
commit — or none when nothing changes:

* :func:`merge` — upsert by a unique key, optional deletes and de-duplication;
* :func:`apply_changes` — CDC feed into SCD type 1 or 2, order- and batch-independent;
* :func:`snapshot_scd2` — SCD2 dimension from successive full snapshots;

plus SQL generators for dimensional modelling. Semantics: docs/kinds.md. Names load on first
use, so a reader that needs only `visible_scan` does not import DuckDB.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from afluente.transform.cdc import (
        ApplyResult,
        ChangeFeedSpec,
        apply_changes,
        visible_row_count,
        visible_rows_sql,
        visible_scan,
    )
    from afluente.transform.delta_target import Target
    from afluente.transform.dimensional import (
        UNKNOWN_KEY,
        key_or_unknown,
        scd2_lookup_join,
        surrogate_key,
        surrogate_key_sql,
        unknown_member_sql,
        with_unknown_member,
    )
    from afluente.transform.errors import DuplicateKeyError, KindSpecError, NullKeyError
    from afluente.transform.merge import MergeResult, MergeSpec, merge
    from afluente.transform.snapshot import SnapshotResult, SnapshotSpec, snapshot_scd2

_EXPORTS = {
    "ApplyResult": "afluente.transform.cdc",
    "ChangeFeedSpec": "afluente.transform.cdc",
    "DuplicateKeyError": "afluente.transform.errors",
    "KindSpecError": "afluente.transform.errors",
    "MergeResult": "afluente.transform.merge",
    "MergeSpec": "afluente.transform.merge",
    "NullKeyError": "afluente.transform.errors",
    "SnapshotResult": "afluente.transform.snapshot",
    "SnapshotSpec": "afluente.transform.snapshot",
    "Target": "afluente.transform.delta_target",
    "UNKNOWN_KEY": "afluente.transform.dimensional",
    "apply_changes": "afluente.transform.cdc",
    "key_or_unknown": "afluente.transform.dimensional",
    "merge": "afluente.transform.merge",
    "scd2_lookup_join": "afluente.transform.dimensional",
    "snapshot_scd2": "afluente.transform.snapshot",
    "surrogate_key": "afluente.transform.dimensional",
    "surrogate_key_sql": "afluente.transform.dimensional",
    "unknown_member_sql": "afluente.transform.dimensional",
    "visible_row_count": "afluente.transform.cdc",
    "visible_rows_sql": "afluente.transform.cdc",
    "visible_scan": "afluente.transform.cdc",
    "with_unknown_member": "afluente.transform.dimensional",
}

__all__ = [
    "UNKNOWN_KEY",
    "ApplyResult",
    "ChangeFeedSpec",
    "DuplicateKeyError",
    "KindSpecError",
    "MergeResult",
    "MergeSpec",
    "NullKeyError",
    "SnapshotResult",
    "SnapshotSpec",
    "Target",
    "apply_changes",
    "key_or_unknown",
    "merge",
    "scd2_lookup_join",
    "snapshot_scd2",
    "surrogate_key",
    "surrogate_key_sql",
    "unknown_member_sql",
    "visible_row_count",
    "visible_rows_sql",
    "visible_scan",
    "with_unknown_member",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'afluente.transform' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
