"""What a point-in-time join is asked to do, and the checks that its columns fit together.

A feature table has an entity key (the columns naming the customer, product, ...) and an
event time (when each row's values became known). A label table has the same entity key
columns and a label time. Checking happens on the column names and types alone (no data
read), so a mismatch is reported before anything runs, naming the table and the columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from afluente.errors import FeatureError

Schema = Mapping[str, str]  # column -> type, as the engine names it


@dataclass(frozen=True)
class FeatureTable:
    """One feature table of a training set: `name` is how the join's SQL calls it."""

    name: str
    entity_key: tuple[str, ...]
    event_time: str
    columns: tuple[str, ...] | None = None  # None: every column but the key and the time
    ttl: timedelta | None = None  # a value older than this at the label time is null
    prefix: str = ""  # put before each feature column's name in the training set


@dataclass(frozen=True)
class Labels:
    """The label table: one training example per row, at `label_time`."""

    name: str
    label_time: str
    # label column -> feature key column, where their names differ (by default the feature
    # tables' entity key columns are looked up by the same names in the labels)
    key_names: Mapping[str, str] | None = None

    def key_for(self, feature_key: str) -> str:
        renamed = {f: label for label, f in (self.key_names or {}).items()}
        return renamed.get(feature_key, feature_key)


@dataclass(frozen=True)
class ResolvedFeature:
    """A feature table checked against the labels: what the SQL generators need."""

    table: FeatureTable
    label_keys: tuple[str, ...]  # the labels' columns matching `table.entity_key`, in order
    outputs: tuple[tuple[str, str], ...]  # (feature column, training-set column)
    cast_times: bool  # label and event time types differ: compare both as TIMESTAMP


def resolve(labels: Labels, label_schema: Schema, features: Sequence[FeatureTable],
            schemas: Mapping[str, Schema]) -> list[ResolvedFeature]:
    """Check every feature table against the labels (and each other's output names)."""
    _require(label_schema, labels.label_time, f"label table `{labels.name}`",
             "its label time (`label_time=`)")
    _temporal(label_schema, labels.label_time, f"label table `{labels.name}`")
    taken = {c: f"label table `{labels.name}`" for c in label_schema}
    resolved = []
    for feature in features:
        one = _resolve_one(labels, label_schema, feature, schemas[feature.name])
        for _, output in one.outputs:
            if output in taken:
                raise FeatureError(
                    f"column `{output}` of feature table `{feature.name}` is also a column of "
                    f"{taken[output]}",
                    hint=f"pass prefix='{feature.name}_' for `{feature.name}`, or choose its "
                    "columns with columns=[...]")
            taken[output] = f"feature table `{feature.name}`"
        resolved.append(one)
    return resolved


def _resolve_one(labels: Labels, label_schema: Schema, feature: FeatureTable,
                 schema: Schema) -> ResolvedFeature:
    where = f"feature table `{feature.name}`"
    if not feature.entity_key:
        raise FeatureError(f"{where} has no entity key",
                           hint="declare `entity_key: <column>` in its model config")
    _require(schema, feature.event_time, where, "its event time (`event_time:`)")
    _temporal(schema, feature.event_time, where)
    label_keys = tuple(_matching_key(labels, label_schema, feature, schema, key)
                       for key in feature.entity_key)
    excluded = {*feature.entity_key, feature.event_time}
    chosen = feature.columns or tuple(c for c in schema if c not in excluded)
    for column in chosen:
        _require(schema, column, where, "a feature column asked for (`columns=`)")
    outputs = tuple((c, feature.prefix + c) for c in chosen)
    cast = _base(label_schema[labels.label_time]) != _base(schema[feature.event_time])
    return ResolvedFeature(feature, label_keys, outputs, cast)


def _matching_key(labels: Labels, label_schema: Schema, feature: FeatureTable,
                  schema: Schema, key: str) -> str:
    where = f"feature table `{feature.name}`"
    _require(schema, key, where, "an entity key column (`entity_key:`)")
    label_key = labels.key_for(key)
    if label_key not in label_schema:
        raise FeatureError(
            f"the entity key `{key}` of {where} is not a column of label table "
            f"`{labels.name}` (its columns: {', '.join(label_schema)})",
            hint=f"name the column `{key}` in the labels too, or map the names with "
            f"key_names={{'<label column>': '{key}'}}")
    ours, theirs = label_schema[label_key], schema[key]
    if type_family(ours) != type_family(theirs):
        raise FeatureError(
            f"entity key types differ: `{label_key}` is {ours} in label table "
            f"`{labels.name}` but `{key}` is {theirs} in {where}",
            hint="cast one side in its model so both are the same type")
    return label_key


def _require(schema: Schema, column: str, where: str, role: str) -> None:
    if column not in schema:
        raise FeatureError(
            f"{where} has no column `{column}`, {role}; its columns: {', '.join(schema)}",
            hint="name an existing column, or add it to that table's model")


def _temporal(schema: Schema, column: str, where: str) -> None:
    if type_family(schema[column]) != "time":
        raise FeatureError(
            f"column `{column}` of {where} is {schema[column]}, not a date or timestamp",
            hint=f"cast `{column}` to TIMESTAMP in that table's model")


_FAMILIES = {
    "time": ("date", "timestamp"),
    "integer": ("tinyint", "smallint", "integer", "int", "bigint", "hugeint", "long", "short",
                "byte", "utinyint", "usmallint", "uinteger", "ubigint", "int2", "int4", "int8"),
    "floating": ("float", "double", "real", "float4", "float8"),
    "decimal": ("decimal", "numeric"),
    "string": ("varchar", "string", "text", "char", "bpchar"),
    "boolean": ("boolean", "bool"),
}


def _base(sql_type: str) -> str:
    return sql_type.strip().lower().split("(")[0].split(" ")[0]


def type_family(sql_type: str) -> str:
    """The family of a type (as DuckDB or Spark name it) for key comparisons: integers of
    any width match each other, a string never matches a number."""
    base = _base(sql_type)
    for family, names in _FAMILIES.items():
        if base in names or (family == "time" and base.startswith("timestamp")):
            return family
    return base
