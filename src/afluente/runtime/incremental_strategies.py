"""How each incremental kind writes a model's output: one strategy object per kind.

A strategy turns the model's config into a call of the kind's algorithm (`afluente.transform`)
or of an append / partition replace, computing in the engine's workspace and committing
through storage. `write_kind` picks the strategy by the model's kind; after a commit, the
files a MERGE wrote with Arrow view types are rewritten with plain ones (see
`storage.view_types`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import ClassVar, Protocol

import pyarrow as pa

from afluente.engines.protocol import Workspace
from afluente.model import Node
from afluente.runtime.incremental_write import KindOutcome, append_rows, replace_partitions
from afluente.storage.commits import CommitDescription
from afluente.transform import (
    ChangeFeedSpec,
    MergeSpec,
    SnapshotSpec,
    Target,
    apply_changes,
    merge,
    snapshot_scd2,
)


@dataclass(frozen=True)
class KindWrite:
    """One write of a model's output into its table."""

    target: Target
    node: Node
    reader: pa.RecordBatchReader  # the model's output
    commit: CommitDescription | None
    workspace: Workspace
    started_at: datetime
    rebuild: bool  # the table is (re)built from this output alone


class KindStrategy(Protocol):
    kind: ClassVar[str]
    # the writer adds the output's new columns to the table itself (else the build adds
    # them before writing, as `on_schema_change: append_new_columns` asks)
    adds_new_columns: ClassVar[bool]

    def write(self, job: KindWrite) -> KindOutcome:
        """Fold the job's output into its target in at most one commit."""
        ...


class MergeStrategy:
    kind: ClassVar[str] = "merge"
    adds_new_columns: ClassVar[bool] = False

    def write(self, job: KindWrite) -> KindOutcome:
        config = job.node.config
        assert config.unique_key is not None
        spec = MergeSpec(config.unique_key, config.delete_when, config.dedupe_by,
                         config.on_null_key or "error", config.except_columns or (),
                         tuple((config.combine or {}).items()),
                         None if config.session_gap is None
                         else config.session_gap.total_seconds())
        done = merge(job.target, job.reader, spec, commit=job.commit, workspace=job.workspace)
        return KindOutcome(done.version, done.upserted + done.deleted, done.quarantined)


class ApplyChangesStrategy:
    kind: ClassVar[str] = "apply_changes"
    adds_new_columns: ClassVar[bool] = False

    def write(self, job: KindWrite) -> KindOutcome:
        config = job.node.config
        assert config.keys is not None and config.sequence_by is not None
        feed = ChangeFeedSpec(
            config.keys, config.sequence_by, config.apply_as_deletes,
            config.except_columns or (), config.scd_type or 1, config.track_history_columns,
            config.on_null_key or "error",
        )
        applied = apply_changes(job.target, job.reader, feed, commit=job.commit,
                                workspace=job.workspace)
        return KindOutcome(applied.version, applied.rows_written, applied.quarantined)


class SnapshotStrategy:
    kind: ClassVar[str] = "snapshot"
    adds_new_columns: ClassVar[bool] = False

    def write(self, job: KindWrite) -> KindOutcome:
        config = job.node.config
        assert config.keys is not None
        spec = SnapshotSpec(config.keys, config.track_columns, config.on_null_key or "error")
        at = job.started_at.astimezone(UTC).replace(tzinfo=None)  # TIMESTAMP validity, UTC
        taken = snapshot_scd2(job.target, job.reader, spec, at, commit=job.commit,
                              workspace=job.workspace)
        rows = taken.inserted + taken.changed + taken.deleted
        return KindOutcome(taken.version, rows, taken.quarantined)


class TimeRangeStrategy:
    """Every partition of the output replaces the table's (a full read rebuilds it all)."""

    kind: ClassVar[str] = "time_range"
    adds_new_columns: ClassVar[bool] = False

    def write(self, job: KindWrite) -> KindOutcome:
        return replace_partitions(job.workspace, job.target, job.node, job.reader, job.commit,
                                  None)


class AppendStrategy:
    kind: ClassVar[str] = "append"
    adds_new_columns: ClassVar[bool] = True  # an append merges the schema

    def write(self, job: KindWrite) -> KindOutcome:
        return append_rows(job.target, job.reader, job.commit, overwrite=job.rebuild)


STRATEGIES: dict[str, KindStrategy] = {
    strategy.kind: strategy
    for strategy in (MergeStrategy(), ApplyChangesStrategy(), SnapshotStrategy(),
                     TimeRangeStrategy(), AppendStrategy())
}


def strategy_for(node: Node) -> KindStrategy:
    """The writer of an incremental model's kind."""
    return STRATEGIES[node.table_kind.name]


def write_kind(job: KindWrite) -> KindOutcome:
    """Fold the job's output into its target the way the model's kind says."""
    job.target.ensure_writable()
    outcome = strategy_for(job.node).write(job)
    if outcome.version is None:
        return outcome
    plain = job.target.plain_types(job.commit)
    return outcome if plain is None else replace(outcome, version=plain)
