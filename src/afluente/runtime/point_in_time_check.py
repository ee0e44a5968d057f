"""Before a SQL model with `{{ point_in_time(...) }}` runs: the label and feature tables'
columns fit the join (keys present and of one type family, times that are times, no
column given twice), or an error naming the model file, line, tables and columns."""

from __future__ import annotations

from afluente.engines import Engine
from afluente.errors import FeatureError
from afluente.features.spec import FeatureTable, Labels, resolve
from afluente.model import Node
from afluente.model.point_in_time import PointInTimeCall, calls_of


def check_point_in_time(node: Node, engine: Engine) -> None:
    calls = calls_of(node)
    if calls and engine.name != "duckdb":
        raise FeatureError(
            f"point_in_time in a SQL model runs on DuckDB (an ASOF JOIN), not on "
            f"{engine.name}", location=calls[0].location, table=node.name,
            hint="build the training set in a Python model with "
            "afluente.features.training_set, which runs on every engine (docs/ml.md)")
    for call in calls:
        try:
            _check(call, engine)
        except FeatureError as exc:
            raise FeatureError(exc.message, location=call.location, table=node.name,
                               hint=exc.hint) from None


def _check(call: PointInTimeCall, engine: Engine) -> None:
    tables = [FeatureTable(str(ref), keys, event_time)
              for ref, (keys, event_time) in zip(call.features, call.keys, strict=True)]
    schemas = {t.name: engine.describe_query(f"SELECT * FROM {t.name}") for t in tables}
    labels = engine.describe_query(f"SELECT * FROM {call.labels}")
    resolve(Labels(str(call.labels), call.label_time), labels, tables, schemas)
