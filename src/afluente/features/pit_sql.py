"""The SQL of a point-in-time join, in the project's dialect (DuckDB's), two ways.

Each label row gets, per feature table, the values of the latest feature row of the same
entity whose event time is at or before the label time (strictly before when `exclusive`),
or nulls when there is none, or when it is older than the table's `ttl`.

- `asof_sql`: DuckDB's ASOF LEFT JOIN, one per feature table.
- `window_sql`: the same rows from a window, for engines without an as-of join (Spark, after
  transpiling): the label rows and the feature rows in one union per feature table, ordered
  by time within each entity; each label row takes the last feature row before it. At equal
  times a feature row sorts before the label row (after it when `exclusive`). Its values
  travel as one struct, so a null value in the latest row stays null instead of being
  filled from an older row.
"""

from __future__ import annotations

from collections.abc import Sequence

from afluente.features.spec import ResolvedFeature
from afluente.sql_text import ident

EVENT_TIME_FIELD = "__afluente_event_time"
_HELPERS = ("__afluente_t", "__afluente_o", "__afluente_v", "__afluente_w")


def asof_sql(labels: str, label_time: str, features: Sequence[ResolvedFeature],
             exclusive: bool) -> str:
    """The training set as DuckDB ASOF LEFT JOINs of `labels` with each feature table."""
    comparison = ">" if exclusive else ">="
    selected, joins = ["l.*"], []
    for index, feature in enumerate(features):
        alias = f"f{index}"
        keys = [f"l.{ident(lk)} = {alias}.{ident(fk)}"
                for lk, fk in zip(feature.label_keys, feature.table.entity_key, strict=True)]
        label_t, event_t = _times(f"l.{ident(label_time)}",
                                  f"{alias}.{ident(feature.table.event_time)}", feature)
        joins.append(f"ASOF LEFT JOIN {ident(feature.table.name)} AS {alias} ON "
                     + " AND ".join([*keys, f"{label_t} {comparison} {event_t}"]))
        fresh = _fresh(feature, label_t, event_t)
        selected += [_kept(f"{alias}.{ident(column)}", fresh) + f" AS {ident(output)}"
                     for column, output in feature.outputs]
    return f"SELECT {', '.join(selected)} FROM {ident(labels)} AS l " + " ".join(joins)


def window_sql(labels: str, label_time: str, label_columns: Sequence[str],
               features: Sequence[ResolvedFeature], exclusive: bool) -> str:
    """The training set from one union and window per feature table (no as-of join)."""
    steps = [f"__afluente_step0 AS (SELECT * FROM {ident(labels)})"]
    columns = list(label_columns)
    for index, feature in enumerate(features):
        steps.append(f"__afluente_step{index + 1} AS ("
                     + _window_step(f"__afluente_step{index}", columns, label_time, feature,
                                    exclusive) + ")")
        columns += [output for _, output in feature.outputs]
    return f"WITH {', '.join(steps)} SELECT * FROM __afluente_step{len(features)}"


def _window_step(previous: str, columns: Sequence[str], label_time: str,
                 feature: ResolvedFeature, exclusive: bool) -> str:
    table = feature.table
    key_names = [f"__afluente_k{i}" for i in range(len(table.entity_key))]
    label_t, event_t = _times(f"s.{ident(label_time)}", f"f.{ident(table.event_time)}",
                              feature)
    label_order, feature_order = (0, 1) if exclusive else (1, 0)
    label_side = ", ".join([
        "s.*", *(f"s.{ident(k)} AS {n}" for k, n in zip(feature.label_keys, key_names,
                                                         strict=True)),
        f"{label_t} AS __afluente_t", f"{label_order} AS __afluente_o",
        "NULL AS __afluente_v"])
    packed = ", ".join([*(f"{_string(c)}: f.{ident(c)}" for c, _ in feature.outputs),
                        f"{_string(EVENT_TIME_FIELD)}: {event_t}"])
    feature_side = ", ".join([
        *(["NULL"] * len(columns)),
        *(f"f.{ident(k)}" for k in table.entity_key), event_t, str(feature_order),
        "{" + packed + "}"])
    not_null = " AND ".join(f"f.{ident(k)} IS NOT NULL"
                            for k in (*table.entity_key, table.event_time))
    union = (f"SELECT {label_side} FROM {previous} AS s UNION ALL "
             f"SELECT {feature_side} FROM {ident(table.name)} AS f WHERE {not_null}")
    window = (f"last_value(__afluente_v IGNORE NULLS) OVER (PARTITION BY "
              f"{', '.join(key_names)} ORDER BY __afluente_t NULLS FIRST, __afluente_o "
              "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)")
    fresh = _fresh(feature, "__afluente_t", f"__afluente_w.{EVENT_TIME_FIELD}")
    values = ", ".join(_kept(f"__afluente_w.{ident(c)}", fresh) + f" AS {ident(o)}"
                       for c, o in feature.outputs)
    hidden = ", ".join([*key_names, *_HELPERS])
    return (f"SELECT * EXCLUDE ({hidden}), {values} FROM (SELECT *, {window} AS __afluente_w "
            f"FROM ({union}) AS u) AS w WHERE __afluente_o = {label_order}")


def _times(label_t: str, event_t: str, feature: ResolvedFeature) -> tuple[str, str]:
    if not feature.cast_times:
        return label_t, event_t
    return f"CAST({label_t} AS TIMESTAMP)", f"CAST({event_t} AS TIMESTAMP)"


def _fresh(feature: ResolvedFeature, label_t: str, event_t: str) -> str | None:
    ttl = feature.table.ttl
    if ttl is None:
        return None
    seconds = int(ttl.total_seconds())
    return f"{event_t} >= {label_t} - INTERVAL '{seconds}' SECOND"


def _kept(value: str, fresh: str | None) -> str:
    return value if fresh is None else f"CASE WHEN {fresh} THEN {value} END"


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
