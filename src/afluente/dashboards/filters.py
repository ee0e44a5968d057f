"""A filter's value from a request (or the CLI) checked against its declaration, and a panel's
query with each `{{ filter }}` replaced by that value as a SQL literal (NULL: any value)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from afluente.dashboards.load import DashboardError
from afluente.dashboards.spec import PLACEHOLDER, Dashboard, FilterSpec

Value = str | int | float | date | None


def filter_values(dashboard: Dashboard, given: Mapping[str, str | None]) -> dict[str, Value]:
    """Every filter's value: the one `given` (an empty text: any), else its default."""
    names = sorted(dashboard.filters)
    for name in given:
        if name not in dashboard.filters:
            close = difflib.get_close_matches(name, names, n=1)
            raise DashboardError(
                f"dashboard {dashboard.name!r} has no filter {name!r}",
                hint=(f"did you mean `{close[0]}`? " if close else "")
                + (f"filters: {', '.join(names)}" if names else "it declares no filters"))
    values: dict[str, Value] = {}
    for name, spec in dashboard.filters.items():
        raw = given.get(name, spec.default)
        values[name] = typed_value(dashboard, name, spec, raw)
    return values


def typed_value(dashboard: Dashboard, name: str, spec: FilterSpec,
                raw: str | int | float | None) -> Value:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    where = f"dashboard {dashboard.name!r}, filter {name!r}"
    if isinstance(spec.choices, list) and str(raw) not in {str(c) for c in spec.choices}:
        choices = [str(c) for c in spec.choices]
        close = difflib.get_close_matches(str(raw), choices, n=1)
        raise DashboardError(f"{where}: {raw!r} is not one of its choices",
                             hint=(f"did you mean `{close[0]}`? " if close else "")
                             + f"choices: {', '.join(choices)}")
    if spec.type == "number":
        try:
            number = float(raw)
        except ValueError:
            raise DashboardError(f"{where}: {raw!r} is not a number",
                                 hint="write it like 10 or 2.5") from None
        if not math.isfinite(number):
            raise DashboardError(f"{where}: {raw!r} is not a finite number",
                                 hint="write it like 10 or 2.5")
        return int(number) if number.is_integer() else number
    if spec.type == "date":
        try:
            return date.fromisoformat(str(raw))
        except ValueError:
            raise DashboardError(f"{where}: {raw!r} is not a date",
                                 hint="write it as YYYY-MM-DD") from None
    return str(raw)


def literal(value: Value) -> str:
    """`value` as a SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def bound_query(sql: str, values: Mapping[str, Value]) -> str:
    """`sql` with every `{{ name }}` replaced by the literal of `values[name]`."""
    return PLACEHOLDER.sub(lambda m: literal(values.get(m.group(1))), sql)


def jsonable_values(values: Mapping[str, Value]) -> dict[str, Any]:
    return {name: v.isoformat() if isinstance(v, date) else v for name, v in values.items()}
