"""Per-model configuration: the `/* @config */` header of SQL models, a sidecar `<name>.yml`,
or the keyword arguments of a Python model's decorator.

The incremental kinds take their keys flat in the same mapping (`kind: merge` next to
`unique_key: id`), as dbt users expect; a key that belongs to another kind is an error that
names the kinds it belongs to, so a typo never silently falls back to a full rebuild.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from afluente.config.governance import MaskKind
from afluente.config.maintenance import MaintenanceSpec
from afluente.config.observability import FreshnessSLA, parse_duration
from afluente.config.retention import (
    RetentionUnit,
    normal_retention,
    parse_retention,
    retention_pair_error,
)
from afluente.model.kinds import KIND_ONLY_KEYS, TableKind, kind_named

ModelKind = Literal[
    "full", "view", "append", "merge", "time_range", "apply_changes", "snapshot", "train", "score"
]
NodeKind = Literal[
    "full", "view", "append", "merge", "time_range", "apply_changes", "snapshot", "train",
    "score", "ingest"
]
# the metrics a `train` model may declare (afluente.ml.metrics.metric_function) and a
# threshold of `promote_if` (`>= 0.7`: the comparison, then the number)
MLMetric = Literal["accuracy", "auc", "f1", "log_loss", "mae", "precision", "r2", "recall",
                   "rmse"]
GATE = re.compile(r"^\s*(>=|<=|>|<|==)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$")
SchemaChange = Literal["fail", "append_new_columns", "sync"]
PartitionUnit = Literal["hour", "day", "month", "year"]
# what a Python model's inputs arrive as: the engine's own frames (a DuckDB relation, a
# Spark DataFrame; only on that engine) or a frame any engine converts to
FrameType = Literal["duckdb", "spark", "arrow", "pandas", "polars"]
# how a `merge` with `combine:` folds a new value into the stored one of the same key
Combine = Literal["sum", "min", "max"]
LateData = Literal["divert", "apply"]

_LATENESS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")
_LATENESS_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}


def parse_lateness(value: Any, key: str = "watermark") -> timedelta:
    """`10 minutes`, `30s`, `2 hours`, `1d` (or a number of seconds) as a timedelta; `key`
    names the setting in the error."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=float(value))
    match = _LATENESS.match(str(value).lower())
    if match is None or match.group(2) not in _LATENESS_UNITS:
        what = "a lateness" if key == "watermark" else "a duration"
        raise ValueError(f"{key} {value!r} is not {what}: write a number and a unit "
                         "(seconds, minutes, hours or days), like `10 minutes`, `30s` or `2h`")
    return timedelta(seconds=float(match.group(1)) * _LATENESS_UNITS[match.group(2)])


class ColumnDoc(BaseModel):
    """Documentation of one output column, and optionally its contracted type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    tags: tuple[str, ...] = ()
    type: str | None = None  # SQL type, checked when the model's contract is enforced
    # column lineage a Python model declares: `derived_from: [silver.orders.amount]`, and how
    derived_from: tuple[str, ...] = ()
    transformation: Literal["identity", "transformation", "aggregation"] = "transformation"
    # written masked: the stored table never holds the raw value (docs/governance.md)
    mask: MaskKind | None = None


def _names(value: Any) -> Any:
    """A single column name is accepted where a list is expected."""
    return (value,) if isinstance(value, str) else value


class ModelConfig(BaseModel):
    """What a model declares about itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ModelKind = "full"
    description: str | None = None
    tags: tuple[str, ...] = ()
    owner: str | None = None
    columns: dict[str, ColumnDoc] = Field(default_factory=dict)
    contract: Literal["enforced", "off"] = "off"
    freshness: FreshnessSLA | None = None  # observability: how stale the table may get
    # retention (LGPD): rows whose `retention_column` is older than `retention` (`5 years`,
    # `18 months`, `90 days`) are deleted by `afluente retain` and the scheduler
    retention: str | None = None
    retention_column: str | None = None
    # table maintenance (compaction, Z-order, vacuum, checkpoints): `afluente maintain` and
    # the scheduler (docs/maintenance.md)
    maintenance: MaintenanceSpec | None = None
    # merge
    unique_key: tuple[str, ...] | None = None
    delete_when: str | None = None
    dedupe_by: str | None = None
    on_null_key: Literal["error", "quarantine"] | None = None
    # time_range
    time_column: str | None = None
    partition_by: PartitionUnit | None = None
    lookback: int | None = Field(default=None, ge=0)
    # apply_changes / snapshot
    keys: tuple[str, ...] | None = None
    sequence_by: str | None = None
    apply_as_deletes: str | None = None
    except_columns: tuple[str, ...] | None = None
    scd_type: Literal[1, 2] | None = None
    track_history_columns: tuple[str, ...] | None = None
    track_columns: tuple[str, ...] | None = None
    on_schema_change: SchemaChange | None = None
    # merge: fold each new value into the stored row's (windows updated in place by merge)
    combine: dict[str, Combine] | None = None
    # merge: session windows of this gap per key, merged when an event bridges two
    session_gap: timedelta | None = None
    # merge: the column saying when a row's window closes; closed rows go to `__final`
    closes_at: str | None = None
    # streams (append, merge): the event time column, how late a row may be behind the
    # newest event time seen, what happens to later rows, the key of a re-sent message
    event_time: str | None = None
    watermark: timedelta | None = None
    late_data: LateData | None = None
    dedup_keys: tuple[str, ...] | None = None
    # stream-to-table joins (append, merge): inputs read whole at their current version in
    # every micro-batch, whose own changes are no new rows for this table
    # (a mapping names each one's join key: only the rows of the keys in the micro-batch)
    dimensions: tuple[str, ...] | dict[str, str | None] | None = None
    # train (afluente.ml): the label column, the metrics measured on the holdout (a share
    # of the training set split off with `seed`), the thresholds that make it `champion`
    label: str | None = None
    metrics: tuple[MLMetric, ...] | None = None
    promote_if: dict[MLMetric, str] | None = None
    holdout: float | None = Field(default=None, gt=0, lt=1)
    seed: int | None = None
    # score: the registered model (a `train` table's name) and its `version:` or `alias:`
    model: str | None = None
    version: int | None = Field(default=None, ge=1)
    alias: str | None = None
    # feature tables (afluente.features): the columns naming the entity a row describes;
    # with `event_time:`, when the row's values became known (docs/ml.md)
    entity_key: tuple[str, ...] | None = None
    # which engine builds it: a name from `engines:` in afluente.yml, or an engine type
    # (duckdb, spark); by default the project's `engine:`
    engine: str | None = None
    # Python models: the frame type the function takes (by default the engine's own)
    frame: FrameType | None = None
    # orchestration: override `run:` retries and timeout of afluente.yml for this model
    retries: int | None = Field(default=None, ge=0, le=100)
    timeout: timedelta | None = None
    # data quality: each entry is checked by afluente.quality (rule keys, columns, SQL)
    expectations: tuple[dict[str, Any], ...] = ()

    _as_tuple = field_validator(
        "unique_key", "keys", "except_columns", "track_history_columns", "track_columns",
        "tags", "dedup_keys", "metrics", "entity_key", mode="before",
    )(_names)

    @field_validator("promote_if")
    @classmethod
    def _gates(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for metric, gate in (value or {}).items():
            if not GATE.match(str(gate)):
                raise ValueError(f"promote_if: {metric}: {gate!r} is not a threshold; write a "
                                 "comparison and a number, like `>= 0.7` or `< 0.3`")
        return value

    @model_validator(mode="after")
    def _one_model_version(self) -> ModelConfig:
        if self.version is not None and self.alias is not None:
            raise ValueError("give `version:` or `alias:`, not both")
        return self

    @field_validator("dimensions", mode="before")
    @classmethod
    def _dimension_names(cls, value: Any) -> Any:
        return _names(value)

    @property
    def dimension_keys(self) -> dict[str, str | None]:
        """Each dimension's join key column (None: read whole)."""
        found = self.dimensions or ()
        return dict(found) if isinstance(found, dict) else dict.fromkeys(found)

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @field_validator("watermark", "session_gap", mode="before")
    @classmethod
    def _lateness(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else parse_lateness(value, info.field_name or "watermark")

    @field_validator("retention", mode="before")
    @classmethod
    def _retention(cls, value: Any) -> Any:
        return normal_retention(value)

    @model_validator(mode="after")
    def _retention_needs_column(self) -> ModelConfig:
        error = retention_pair_error(self.retention, self.retention_column)
        if error is not None:
            raise ValueError(error)
        if self.retention is not None and self.kind == "view":
            raise ValueError("a `view` stores no rows: declare `retention` on the table it "
                             "reads")
        if self.maintenance is not None and self.kind == "view":
            raise ValueError("a `view` has no files to maintain: declare `maintenance` on the "
                             "table it reads")
        return self

    @property
    def retention_period(self) -> tuple[int, RetentionUnit] | None:
        """`retention` as (count, unit), or None when the model declares none."""
        return None if self.retention is None else parse_retention(self.retention)

    @model_validator(mode="after")
    def _keys_fit_kind(self) -> ModelConfig:
        misfit = self.table_kind.key_error(
            k for k in KIND_ONLY_KEYS if getattr(self, k) is not None
        )
        if misfit is not None:
            raise ValueError(misfit)
        if self.event_time is None:
            needing = [k for k in ("watermark", "late_data", "dedup_keys")
                       if getattr(self, k) is not None]
            if needing:
                raise ValueError(f"`{needing[0]}` needs `event_time: <column>`")
        if self.entity_key is not None and self.event_time is None:
            raise ValueError("`entity_key` needs `event_time: <column>` (when each feature "
                             "row's values became known)")
        if self.contract == "enforced" and not any(c.type for c in self.columns.values()):
            raise ValueError("`contract: enforced` needs `columns:` with a `type` each")
        return self

    @property
    def table_kind(self) -> TableKind:
        return kind_named(self.kind)

    @property
    def incremental(self) -> bool:
        return self.table_kind.incremental

    @property
    def schema_change(self) -> SchemaChange:
        return self.on_schema_change or "fail"

    @property
    def contracted_types(self) -> dict[str, str]:
        """Declared column types, in declaration order (empty unless enforced)."""
        if self.contract != "enforced":
            return {}
        return {name: c.type for name, c in self.columns.items() if c.type}


def kind_columns(config: ModelConfig, output: dict[str, str]) -> dict[str, str]:
    """The columns (and SQL types) a kind adds to what readers see of the model's output
    (:meth:`TableKind.added_columns`)."""
    return config.table_kind.added_columns(config, output)
