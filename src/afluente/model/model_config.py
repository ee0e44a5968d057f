"""Per-model configuration: the `/* @config */` header of SQL models, a sidecar `<name>.yml`,
or the keyword arguments of a Python model's decorator.

The incremental kinds take their keys flat in the same mapping (`kind: merge` next to
`unique_key: id`), as dbt users expect; a key that belongs to another kind is an error that
names the kinds it belongs to, so a typo never silently falls back to a full rebuild.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from afluente.config.observability import FreshnessSLA, parse_duration

ModelKind = Literal["full", "view", "append", "merge", "time_range", "apply_changes", "snapshot"]
NodeKind = Literal[
    "full", "view", "append", "merge", "time_range", "apply_changes", "snapshot", "ingest"
]
INCREMENTAL_KINDS: frozenset[str] = frozenset(
    {"append", "merge", "time_range", "apply_changes", "snapshot"}
)
SchemaChange = Literal["fail", "append_new_columns", "sync"]
PartitionUnit = Literal["hour", "day", "month", "year"]

# key -> the kinds that accept it, and the keys each kind requires
KIND_KEYS: dict[str, frozenset[str]] = {
    "unique_key": frozenset({"merge"}),
    "delete_when": frozenset({"merge"}),
    "dedupe_by": frozenset({"merge"}),
    "on_null_key": frozenset({"merge", "apply_changes", "snapshot"}),
    "time_column": frozenset({"time_range"}),
    "partition_by": frozenset({"time_range"}),
    "lookback": frozenset({"time_range"}),
    "keys": frozenset({"apply_changes", "snapshot"}),
    "sequence_by": frozenset({"apply_changes"}),
    "apply_as_deletes": frozenset({"apply_changes"}),
    "except_columns": frozenset({"apply_changes", "merge"}),
    "scd_type": frozenset({"apply_changes"}),
    "track_history_columns": frozenset({"apply_changes"}),
    "track_columns": frozenset({"snapshot"}),
    "on_schema_change": INCREMENTAL_KINDS,
}
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "merge": ("unique_key",),
    "time_range": ("time_column",),
    "apply_changes": ("keys", "sequence_by"),
    "snapshot": ("keys",),
}


class ColumnDoc(BaseModel):
    """Documentation of one output column, and optionally its contracted type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    tags: tuple[str, ...] = ()
    type: str | None = None  # SQL type, checked when the model's contract is enforced
    # column lineage a Python model declares: `derived_from: [silver.orders.amount]`, and how
    derived_from: tuple[str, ...] = ()
    transformation: Literal["identity", "transformation", "aggregation"] = "transformation"


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
    # orchestration: override `run:` retries and timeout of afluente.yml for this model
    retries: int | None = Field(default=None, ge=0, le=100)
    timeout: timedelta | None = None
    # data quality: each entry is checked by afluente.quality (rule keys, columns, SQL)
    expectations: tuple[dict[str, Any], ...] = ()

    _as_tuple = field_validator(
        "unique_key", "keys", "except_columns", "track_history_columns", "track_columns",
        "tags", mode="before",
    )(_names)

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _keys_fit_kind(self) -> ModelConfig:
        for key, kinds in KIND_KEYS.items():
            if getattr(self, key) is not None and self.kind not in kinds:
                raise ValueError(
                    f"`{key}` does not apply to kind `{self.kind}` (it is a key of "
                    f"{', '.join(sorted(kinds))})"
                )
        for key in REQUIRED_KEYS.get(self.kind, ()):
            if getattr(self, key) is None:
                raise ValueError(f"kind `{self.kind}` needs `{key}`")
        if self.contract == "enforced" and not any(c.type for c in self.columns.values()):
            raise ValueError("`contract: enforced` needs `columns:` with a `type` each")
        return self

    @property
    def incremental(self) -> bool:
        return self.kind in INCREMENTAL_KINDS

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
    """The columns (and SQL types) a kind adds to what readers see of the model's output:
    the validity range of SCD2 tables, typed like their sequence (snapshots: TIMESTAMP)."""
    if config.kind == "apply_changes" and config.scd_type == 2 and config.sequence_by:
        sequence = output.get(config.sequence_by, "VARCHAR")
        return {"valid_from": sequence, "valid_to": sequence, "is_current": "BOOLEAN"}
    if config.kind == "snapshot":
        return {"valid_from": "TIMESTAMP", "valid_to": "TIMESTAMP", "is_current": "BOOLEAN"}
    return {}
