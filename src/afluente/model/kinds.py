"""Table kinds as objects: each kind, in one place, says what the rest of afluente asks of it.

A model's `kind:` (and a source's ingestion) names one :class:`TableKind` of :data:`KINDS`.
Planning, building, quality, quarantine, readers, backfills and lineage ask the kind object
(materialized? incremental? which key columns? which bookkeeping columns?) instead of
comparing its name. The objects only describe: how a kind writes lives with the engine and
storage operations (`runtime`, `transform`), which look the kind up here.

A new kind is one more entry of :data:`KINDS` (and its name in `model_config.ModelKind`);
`tests/model/test_kinds.py` fails until every kind of the config schema has its object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from afluente.model.model_config import ModelConfig

BuildPath = Literal["view", "full", "incremental", "ingest", "ml"]  # ml: afluente.ml
# which stored quarantine rows a new build replaces (docs/quality.md): all of them, those of
# the keys its batch carried, those of the partitions it rewrote, or none (it only adds)
QuarantineScope = Literal["all", "keys", "partitions", "none"]
# the validity columns of SCD2 tables: typed like the change sequence, or snapshot times
History = Literal["none", "sequence", "snapshot"]
KeyField = Literal["unique_key", "keys"]

# bookkeeping columns the kinds add to the stored table (never part of a model's output)
CDC_SEQUENCE, CDC_DELETED, CDC_VISIBLE = "__cdc_sequence", "__cdc_deleted", "__cdc_visible"
VALID_FROM, VALID_TO, IS_CURRENT = "valid_from", "valid_to", "is_current"
CDC_COLUMNS = (CDC_SEQUENCE, CDC_DELETED, CDC_VISIBLE)
VALIDITY_COLUMNS = (VALID_FROM, VALID_TO, IS_CURRENT)
RESERVED_COLUMNS = frozenset({*CDC_COLUMNS, *VALIDITY_COLUMNS})
PARTITION_PREFIX = "_partition_"  # + the grain: the time partition of a time_range row

# the keys that belong to some kinds only, in the order the config check reports them
KIND_ONLY_KEYS = (
    "unique_key", "delete_when", "dedupe_by", "on_null_key", "time_column", "partition_by",
    "lookback", "keys", "sequence_by", "apply_as_deletes", "except_columns", "scd_type",
    "track_history_columns", "track_columns", "on_schema_change", "combine", "event_time",
    "watermark", "late_data", "dedup_keys", "dimensions", "session_gap", "closes_at",
    "label", "metrics", "promote_if", "holdout", "seed", "model", "version", "alias",
)


@dataclass(frozen=True)
class TableKind:
    """What one kind of table is, as the rest of the code asks about it."""

    name: str
    build: BuildPath
    accepts: frozenset[str] = frozenset()  # keys of KIND_ONLY_KEYS this kind takes
    requires: tuple[str, ...] = ()
    key_field: KeyField | None = None  # the config key naming its key columns
    one_row_per_key: bool = False  # duplicates of its key columns are counted by quality
    full_read_rebuilds: bool = False  # a full read of its inputs replaces the whole table
    reads_whole_input: bool = False  # never reads only the new rows of its input
    time_partitioned: bool = False  # rows belong to `_partition_<grain>` time partitions
    change_feed: bool = False  # keeps hidden bookkeeping rows; readers see visible ones
    history: History = "none"
    quarantine_replaces: QuarantineScope = "all"
    folder_expectations: bool = False  # inherits `expectations` from folder defaults

    @property
    def materialized(self) -> bool:
        """Stored as a Delta table (a view is computed when read)."""
        return self.build != "view"

    @property
    def incremental(self) -> bool:
        return self.build == "incremental"

    @property
    def stores_query_output(self) -> bool:
        """Whether the table's columns are its query's output (a change feed's are not)."""
        return not self.change_feed

    @property
    def visible_column(self) -> str | None:
        """The boolean column of the rows readers see; None: they see every row."""
        return CDC_VISIBLE if self.change_feed else None

    @property
    def holds_written_rows(self) -> bool:
        """Whether a build's written rows are exactly the table's rows afterwards."""
        return self.build == "full"

    @property
    def job_type(self) -> str:
        """The OpenLineage job type of the task that builds it."""
        return "INGESTION" if self.build == "ingest" else "MODEL"

    def key_columns(self, config: ModelConfig) -> tuple[str, ...]:
        """The columns that identify a row of the table (empty when none do)."""
        if self.key_field is None:
            return ()
        return getattr(config, self.key_field) or ()

    def partition_column(self, config: ModelConfig) -> str | None:
        return PARTITION_PREFIX + (config.partition_by or "day") if self.time_partitioned else None

    def added_columns(self, config: ModelConfig, output: Mapping[str, str]) -> dict[str, str]:
        """The columns (and SQL types) the kind adds to what readers see of the model's
        output: the validity range of SCD2 tables, typed like their sequence (snapshots:
        TIMESTAMP)."""
        if self.history == "snapshot":
            return {VALID_FROM: "TIMESTAMP", VALID_TO: "TIMESTAMP", IS_CURRENT: "BOOLEAN"}
        if self.history == "sequence" and config.scd_type == 2 and config.sequence_by:
            sequence = output.get(config.sequence_by, "VARCHAR")
            return {VALID_FROM: sequence, VALID_TO: sequence, IS_CURRENT: "BOOLEAN"}
        return {}

    def key_error(self, given: Iterable[str]) -> str | None:
        """Why the config keys `given` (those set) do not fit this kind; None when they do."""
        present = set(given)
        for key in KIND_ONLY_KEYS:
            if key in present and key not in self.accepts:
                return (f"`{key}` does not apply to kind `{self.name}` (it is a key of "
                        f"{', '.join(sorted(KIND_KEYS[key]))})")
        for key in self.requires:
            if key not in present:
                return f"kind `{self.name}` needs `{key}`"
        return None


_INCREMENTAL = frozenset({"on_schema_change"})
_NULL_KEYS = frozenset({"on_null_key"})
# event time in streams: late rows set aside, re-sent rows dropped (runtime/event_time.py)
_EVENT_TIME = frozenset({"event_time", "watermark", "late_data", "dedup_keys", "dimensions"})

# a full table with `event_time` (and `entity_key`) is a feature table (afluente.features)
FULL = TableKind("full", "full", frozenset({"event_time"}), folder_expectations=True)
VIEW = TableKind("view", "view")
APPEND = TableKind("append", "incremental", _INCREMENTAL | _EVENT_TIME, full_read_rebuilds=True,
                   quarantine_replaces="none")
MERGE = TableKind(
    "merge", "incremental",
    _INCREMENTAL | _NULL_KEYS | _EVENT_TIME
    | {"unique_key", "delete_when", "dedupe_by", "except_columns", "combine", "session_gap",
       "closes_at"},
    requires=("unique_key",), key_field="unique_key", one_row_per_key=True,
    quarantine_replaces="keys",
)
TIME_RANGE = TableKind(
    "time_range", "incremental", _INCREMENTAL | {"time_column", "partition_by", "lookback"},
    requires=("time_column",), full_read_rebuilds=True, time_partitioned=True,
    quarantine_replaces="partitions",
)
APPLY_CHANGES = TableKind(
    "apply_changes", "incremental",
    _INCREMENTAL | _NULL_KEYS | {"keys", "sequence_by", "apply_as_deletes", "except_columns",
                                 "scd_type", "track_history_columns"},
    requires=("keys", "sequence_by"), key_field="keys", change_feed=True, history="sequence",
    quarantine_replaces="keys",
)
SNAPSHOT = TableKind(
    "snapshot", "incremental", _INCREMENTAL | _NULL_KEYS | {"keys", "track_columns"},
    requires=("keys",), key_field="keys", one_row_per_key=True, reads_whole_input=True,
    history="snapshot",
)
INGEST = TableKind("ingest", "ingest")  # a source's bronze table
# machine learning (afluente.ml, docs/ml.md): a `train` table holds one row per registered
# version of its model; a `score` table the predictions of a registered version, by key
TRAIN = TableKind("train", "ml", frozenset({"label", "metrics", "promote_if", "holdout", "seed"}),
                  requires=("label",))
SCORE = TableKind("score", "ml", frozenset({"unique_key", "model", "version", "alias"}),
                  requires=("unique_key", "model"), key_field="unique_key", one_row_per_key=True)

KINDS: dict[str, TableKind] = {
    k.name: k for k in (FULL, VIEW, APPEND, MERGE, TIME_RANGE, APPLY_CHANGES, SNAPSHOT, INGEST,
                        TRAIN, SCORE)
}
# key -> the kinds that accept it (for error messages and folder defaults)
KIND_KEYS: dict[str, frozenset[str]] = {
    key: frozenset(k.name for k in KINDS.values() if key in k.accepts) for key in KIND_ONLY_KEYS
}


def kind_named(name: str) -> TableKind:
    """The kind called `name` (a name the config schema admitted)."""
    return KINDS[name]
