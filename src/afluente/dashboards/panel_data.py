"""Run a panel's query (or a filter's choices) through `afluente query`'s read-only path as
the caller: the governed reader's grants, masks and row filters apply, as for any read."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from afluente.config import Project
from afluente.dashboards.filters import Value, bound_query
from afluente.dashboards.load import DashboardError
from afluente.dashboards.spec import Choices, Dashboard, FilterSpec
from afluente.errors import AfluenteError, Location
from afluente.json_values import json_value

if TYPE_CHECKING:
    from afluente.governance.reader import GovernedReader

#: Rows one panel draws at most (a chart of more says nothing more).
MAX_ROWS = 10_000
MAX_CHOICES = 1_000


@dataclass(frozen=True)
class PanelData:
    """A panel's result, JSON-ready: times as ISO 8601, decimals as text (exact), bytes as
    hex, as the API writes table values."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool

    def as_json(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows, "truncated": self.truncated}


def panel_data(project: Project, dashboard: Dashboard, panel: str,
               values: Mapping[str, Value], reader: GovernedReader | None = None) -> PanelData:
    """The rows panel `panel` draws with the filters at `values`."""
    spec = dashboard.panels.get(panel)
    if spec is None:
        names = sorted(dashboard.panels)
        close = difflib.get_close_matches(panel, names, n=1)
        raise PanelNotFound(f"dashboard {dashboard.name!r} has no panel {panel!r}",
                            hint=(f"did you mean `{close[0]}`? " if close else "")
                            + f"panels: {', '.join(names)}")
    sql = bound_query(spec.query, values)
    result = _run(project, dashboard, f"panel {panel!r}", sql, MAX_ROWS, reader,
                  dashboard.where("panels", panel, "query"))
    _check_columns(dashboard, panel, result.columns)
    return result


class PanelNotFound(DashboardError):
    """No panel of that name in the dashboard."""


def filter_choices(project: Project, dashboard: Dashboard, name: str,
                   reader: GovernedReader | None = None) -> list[Any] | None:
    """The values filter `name` offers (None: any value may be typed)."""
    spec: FilterSpec = dashboard.filters[name]
    choices = spec.choices
    if choices is None or isinstance(choices, list):
        return choices
    assert isinstance(choices, Choices)
    if choices.column is not None:
        table, column = choices.column.rsplit(".", 1)
        layer, table_name = table.split(".")
        sql = (f'SELECT DISTINCT "{column}" FROM "{layer}"."{table_name}" '
               f'WHERE "{column}" IS NOT NULL ORDER BY 1')
    else:
        sql = choices.query or ""
    where = dashboard.where("filters", name, "choices")
    result = _run(project, dashboard, f"filter {name!r}", sql, MAX_CHOICES, reader, where)
    return [row[0] for row in result.rows]


def _run(project: Project, dashboard: Dashboard, what: str, sql: str, limit: int,
         reader: GovernedReader | None, where: Location | None) -> PanelData:
    from afluente.runtime import query_rows

    capped = f"SELECT * FROM (\n{sql.strip().rstrip(';')}\n) AS afluente_panel LIMIT {limit + 1}"
    try:
        result = query_rows(project, capped, reader)
    except DashboardError:
        raise
    except AfluenteError as error:  # the same kind (a refusal stays a refusal), now placed
        message = f"dashboard {dashboard.name!r}, {what}: {error.message}"
        try:
            placed = type(error)(message, location=where, table=error.table, hint=error.hint)
        except TypeError:  # a kind built from other arguments
            placed = DashboardError(message, location=where, table=error.table,
                                    hint=error.hint)
        raise placed from error
    rows = [[json_value(v) for v in row] for row in result.rows[:limit]]
    return PanelData(list(result.columns), rows, len(result.rows) > limit)


def _check_columns(dashboard: Dashboard, panel: str, columns: list[str]) -> None:
    """The columns the panel draws are in its result."""
    spec = dashboard.panels[panel]
    named: list[tuple[str, str]] = [("x", spec.x)] if spec.x else []
    named += [("y", c) for c in spec.y]
    named += [("series", spec.series)] if spec.series else []
    named += [("columns", c) for c in spec.columns or ()]
    for key, column in named:
        if column not in columns:
            close = difflib.get_close_matches(column, columns, n=1)
            raise DashboardError(
                f"dashboard {dashboard.name!r}, panel {panel!r}: `{key}` names column "
                f"{column!r}, which the query does not return",
                location=dashboard.where("panels", panel, key),
                hint=(f"did you mean `{close[0]}`? " if close else "")
                + f"the query returns: {', '.join(columns)}")
