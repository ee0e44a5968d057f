"""The algorithms of the incremental table kinds, on engine and storage operations.

Each kind is one function from (target Delta table, source rows, spec) to one atomic Delta
commit — or none when nothing changes. It computes in an engine `Workspace` (scratch tables
and SQL in DuckDB's dialect; `engines.protocol`) and commits through `storage.target.Target`:

* :func:`merge` — upsert by a unique key, optional deletes and de-duplication;
* :func:`apply_changes` — CDC feed into SCD type 1 or 2, order- and batch-independent;
* :func:`snapshot_scd2` — SCD2 dimension from successive full snapshots;

plus SQL generators for dimensional modelling. Semantics: docs/kinds.md.
"""

from afluente.storage.commits import CommitDescription
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

__all__ = [
    "UNKNOWN_KEY",
    "ApplyResult",
    "ChangeFeedSpec",
    "CommitDescription",
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
