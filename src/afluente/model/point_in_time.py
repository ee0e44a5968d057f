"""`{{ point_in_time(...) }}` in a SQL model: a point-in-time correct training set as a
subquery, from feature tables that declare `entity_key:` and `event_time:`.

    SELECT * FROM {{ point_in_time('gold.churn_labels', label_time='as_of',
                                   features=['gold.customer_spend'], ttl='90 days') }}

Discovery reads the model with a stand-in subquery reading the same tables (so its
dependencies are inferred as usual); once every model's config is known, the call becomes
DuckDB ASOF LEFT JOINs of the labels with each feature table on its entity key and
`label_time >= event_time` (`>` when `exclusive=True`). Feature columns keep their names;
with `ttl`, a value older than that at the label time is null. On other engines build the
training set in a Python model with `afluente.features.training_set`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from afluente.errors import Location, ModelError
from afluente.model.model_config import parse_lateness
from afluente.model.nodes import Node
from afluente.model.refs import TableRef
from afluente.sql_text import ident

MACRO = re.compile(r"\{\{\s*point_in_time\s*\((?P<args>.*?)\)\s*\}\}", re.DOTALL)
USAGE = ("write {{ point_in_time('layer.labels', label_time='<column>', "
         "features=['layer.features', ...]) }}")
CALLS = "point_in_time"
_OPTIONS = frozenset({"label_time", "features", "exclusive", "ttl"})


@dataclass(frozen=True)
class PointInTimeCall:
    labels: TableRef
    label_time: str
    features: tuple[TableRef, ...]
    exclusive: bool
    ttl: timedelta | None
    location: Location
    # each feature table's (entity key, event time), from its config (filled by `expand`)
    keys: tuple[tuple[tuple[str, ...], str], ...] = ()


def has_calls(text: str) -> bool:
    return "point_in_time" in text and MACRO.search(text) is not None


def with_stand_ins(text: str, file: Path) -> str:
    """The model's text with each call replaced by a subquery reading the same tables, on
    as many lines (error positions after it stay right)."""
    def stand_in(match: re.Match[str]) -> str:
        call = _call(match, text, file)
        tables = ", ".join(str(r) for r in (call.labels, *call.features))
        return f"(SELECT * FROM {tables})" + "\n" * match.group(0).count("\n")

    return MACRO.sub(stand_in, text)


def expand(node: Node, nodes: Mapping[TableRef, Node]) -> Node:
    """`node` with its calls replaced by their ASOF JOIN subqueries (the calls themselves
    kept in `extra["point_in_time"]`, for the runtime to check the columns they join)."""
    assert node.sql is not None
    text = node.sql
    calls = [_call(m, text, node.file) for m in MACRO.finditer(text)]
    calls = [replace(c, keys=tuple(_feature_keys(r, nodes, c.location) for r in c.features))
             for c in calls]
    joined = iter([_subquery(c) for c in calls])
    # on as many lines as the call: positions in errors after it stay right
    return replace(node, sql=MACRO.sub(lambda m: next(joined) + "\n" * m.group(0).count("\n"),
                                       text),
                   extra={**node.extra, CALLS: tuple(calls)})


def calls_of(node: Node) -> tuple[PointInTimeCall, ...]:
    """The point_in_time calls of a SQL model (none for any other node)."""
    found: tuple[PointInTimeCall, ...] = node.extra.get(CALLS, ())
    return found


def _subquery(call: PointInTimeCall) -> str:
    comparison = ">" if call.exclusive else ">="
    selected, joins = ["l.*"], []
    label_t = f"l.{ident(call.label_time)}"
    for index, (ref, (keys, event_time)) in enumerate(zip(call.features, call.keys,
                                                         strict=True)):
        alias = f"f{index}"
        hidden = ", ".join(ident(c) for c in (*keys, event_time))
        values = f"{alias}.* EXCLUDE ({hidden})"
        if call.ttl is not None:
            values = f"COLUMNS({values})"
            seconds = int(call.ttl.total_seconds())
            values = (f"CASE WHEN {alias}.{ident(event_time)} >= {label_t} - INTERVAL "
                      f"'{seconds}' SECOND THEN {values} END")
        selected.append(values)
        on = [f"l.{ident(k)} = {alias}.{ident(k)}" for k in keys]
        joins.append(f"ASOF LEFT JOIN {ref} AS {alias} ON " + " AND ".join(
            [*on, f"{label_t} {comparison} {alias}.{ident(event_time)}"]))
    return f"(SELECT {', '.join(selected)} FROM {call.labels} AS l {' '.join(joins)})"


def _feature_keys(ref: TableRef, nodes: Mapping[TableRef, Node], location: Location
                  ) -> tuple[tuple[str, ...], str]:
    config = nodes[ref].config
    if not config.entity_key or not config.event_time:
        raise ModelError(
            f"`{ref}` is not a feature table: it declares no `entity_key` and `event_time`",
            location=location,
            hint=f"add `entity_key: <column>` and `event_time: <column>` to the config of "
            f"{ref}")
    return config.entity_key, config.event_time


def _call(match: re.Match[str], text: str, file: Path) -> PointInTimeCall:
    location = Location(file, text.count("\n", 0, match.start()) + 1)
    try:
        parsed = ast.parse(f"f({match.group('args')})", mode="eval").body
        assert isinstance(parsed, ast.Call)
        args = [ast.literal_eval(a) for a in parsed.args]
        options = {k.arg: ast.literal_eval(k.value) for k in parsed.keywords}
    except (SyntaxError, ValueError, AssertionError):
        raise ModelError("point_in_time takes literal arguments only", location=location,
                         hint=USAGE) from None
    unknown = sorted(str(k) for k in options if k not in _OPTIONS)
    if len(args) != 1 or unknown or "label_time" not in options or not options.get(
            "features"):
        raise ModelError(
            "point_in_time needs the label table, `label_time=` and `features=`"
            + (f"; unknown option `{unknown[0]}`" if unknown else ""),
            location=location, hint=USAGE)
    features = options["features"]
    features = [features] if isinstance(features, str) else list(features)
    return PointInTimeCall(
        _ref(args[0], location), str(options["label_time"]),
        tuple(_ref(f, location) for f in features), bool(options.get("exclusive", False)),
        _ttl(options.get("ttl"), location), location)


def _ref(value: object, location: Location) -> TableRef:
    layer, _, name = str(value).lower().partition(".")
    if not layer or not name:
        raise ModelError(f"point_in_time names tables as `layer.table`, got {value!r}",
                         location=location, hint=USAGE)
    return TableRef(layer, name)


def _ttl(value: object, location: Location) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_lateness(value)
    except ValueError:
        raise ModelError(f"ttl {value!r} is not a duration", location=location,
                         hint="write a number and a unit, like `30 days` or `12h`") from None
