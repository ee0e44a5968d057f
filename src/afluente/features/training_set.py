"""`afluente.features.training_set`: a point-in-time correct training set in a Python model.

    @afluente.table(inputs={"labels": "gold.churn_labels", "orders": "gold.customer_orders"})
    def churn_training(labels, orders):
        return features.training_set(
            labels, label_time="as_of",
            features={"orders": features.feature(orders, entity_key="customer_id",
                                                 event_time="computed_at", ttl="90 days")})

The frames are the engine's own (DuckDB relations, Spark DataFrames); the join runs on that
engine: an ASOF JOIN on DuckDB, a window over a union on Spark (`pit_sql`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from afluente.engines.frame_sql import frame_engine, frame_schema, run_sql
from afluente.errors import FeatureError
from afluente.features.pit_sql import asof_sql, window_sql
from afluente.features.spec import FeatureTable, Labels, resolve
from afluente.model.model_config import parse_lateness

LABELS = "labels"


@dataclass(frozen=True)
class FeatureInput:
    """A feature table's frame and how to join it (its name comes from `features=`)."""

    frame: Any
    table: FeatureTable


def feature(frame: Any, *, entity_key: str | Sequence[str], event_time: str,
            columns: Sequence[str] | None = None, ttl: str | timedelta | None = None,
            prefix: str = "") -> FeatureInput:
    """A feature table for `training_set`: its entity key column(s), its event time, the
    feature columns to take (all others by default), how old a value may be at the label
    time (`ttl`: `30 days`, `12h`), and a prefix for its columns in the training set."""
    keys = (entity_key,) if isinstance(entity_key, str) else tuple(entity_key)
    spec = FeatureTable("", keys, event_time, tuple(columns) if columns is not None else None,
                        None if ttl is None else _ttl(ttl), prefix)
    return FeatureInput(frame, spec)


def training_set(labels: Any, *, label_time: str, features: Mapping[str, FeatureInput],
                 exclusive: bool = False, key_names: Mapping[str, str] | None = None) -> Any:
    """Each row of `labels` with, per feature table, the values of its entity's latest
    feature row whose event time is at or before `label_time` (before it, if `exclusive`):
    nothing known later leaks in. Returns a frame of the labels' engine."""
    if not features:
        raise FeatureError("a training set needs at least one feature table",
                           hint="pass features={'name': features.feature(frame, ...)}")
    if LABELS in features:
        raise FeatureError(f"`{LABELS}` names the label table; call the feature table "
                           "something else")
    tables = [replace(f.table, name=name) for name, f in features.items()]
    label_schema = frame_schema(labels)
    schemas = {t.name: frame_schema(features[t.name].frame) for t in tables}
    spec = Labels(LABELS, label_time, key_names)
    resolved = resolve(spec, label_schema, tables, schemas)
    if frame_engine(labels) == "duckdb":
        query = asof_sql(LABELS, label_time, resolved, exclusive)
    else:
        query = window_sql(LABELS, label_time, list(label_schema), resolved, exclusive)
    frames = {LABELS: labels, **{name: f.frame for name, f in features.items()}}
    return run_sql(query, frames)


def _ttl(value: str | timedelta) -> timedelta:
    try:
        return parse_lateness(value)
    except ValueError as exc:
        raise FeatureError(f"ttl {value!r} is not a duration",
                           hint="write a number and a unit, like `30 days` or `12h`") from exc
