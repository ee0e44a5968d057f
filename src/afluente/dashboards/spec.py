"""What a `dashboards/*.yml` file declares: a title, filters and panels (a query on gold
tables and how to draw its result). Validated with pydantic (`extra="forbid"`), so a
misspelt key is an error naming the file, line and column (see `load`)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from afluente.config.observability import parse_duration
from afluente.config.yaml_lines import KeyPath
from afluente.dashboards.located import KeyMarks
from afluente.errors import Location

ChartKind = Literal["line", "bar", "area", "table", "map"]
FilterType = Literal["text", "number", "date"]
FormatKind = Literal["number", "integer", "currency", "percent", "text"]
#: `{{ name }}` in a panel's query: the filter's value as a SQL literal (NULL: any).
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
NAME = r"^[A-Za-z_][A-Za-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choices(_Strict):
    """Where a filter's choices come from: the distinct values of a gold column
    (`gold.table.column`) or the first column of a query."""

    column: str | None = Field(None, pattern=r"^[A-Za-z_]\w*\.[A-Za-z_]\w*\.[A-Za-z_]\w*$")
    query: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Choices:
        if (self.column is None) == (self.query is None):
            raise ValueError("choices take exactly one of `column` (gold.table.column) or "
                             "`query`, or a list of values")
        return self


class FilterSpec(_Strict):
    """A value the panels' queries use as `{{ name }}`; no value (null) means "any"."""

    label: str | None = None
    type: FilterType = "text"
    default: str | int | float | None = None
    choices: list[str | int | float] | Choices | None = None


class Format(_Strict):
    """How values are shown (in the dashboard's locale)."""

    kind: FormatKind = "number"
    decimals: int | None = Field(None, ge=0, le=10)
    currency: str = Field("BRL", pattern=r"^[A-Z]{3}$")


class Panel(_Strict):
    """One chart: `query` (read-only SQL over gold tables, `{{ filter }}` for a filter's
    value), the chart kind and which result columns it draws: `x` the category or time axis
    (for a map, the UF code), `y` the value column(s), `series` a column whose values split
    the lines or bars; a table shows `columns` (default: all)."""

    title: str
    description: str | None = None
    chart: ChartKind
    query: str = Field(min_length=1)
    x: str | None = None
    y: list[str] = Field(default_factory=list)
    series: str | None = None
    columns: list[str] | None = None
    stack: bool = False
    horizontal: bool = False
    width: Literal[1, 2] = 1
    format: Format = Field(default_factory=Format)

    @field_validator("y", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _axes(self) -> Panel:
        if self.chart != "table" and (self.x is None or not self.y):
            raise ValueError(f"a {self.chart} chart needs `x` (the "
                             f"{'UF column' if self.chart == 'map' else 'category or time column'}"
                             ") and `y` (the value column)")
        if self.chart == "map" and (len(self.y) != 1 or self.series):
            raise ValueError("a map draws one value column per state: give one `y` and no "
                             "`series`")
        if self.series and len(self.y) != 1:
            raise ValueError("with `series`, give one `y` column (its values are split by the "
                             "series column)")
        return self

    def placeholders(self) -> list[str]:
        return PLACEHOLDER.findall(self.query)


class Dashboard(_Strict):
    """A whole `dashboards/NAME.yml`; `name` is the file's stem."""

    name: str = Field("", pattern=r"^$|" + NAME)
    title: str
    description: str | None = None
    locale: str = "pt-BR"
    refresh: timedelta | None = None
    filters: dict[str, FilterSpec] = Field(default_factory=dict)
    panels: dict[str, Panel] = Field(min_length=1)
    _marks: KeyMarks | None = PrivateAttr(None)

    def located(self, marks: KeyMarks) -> Dashboard:
        """This dashboard, remembering where each key of its file is."""
        self._marks = marks
        return self

    def where(self, *path: str | int) -> Location | None:
        """The file, line and column of a key (`"panels", "by_state", "y"`)."""
        return self._marks.location(path) if self._marks else None

    def where_in(self, path: KeyPath, word: str) -> Location | None:
        """Where `word` is inside the value of `path` (a table in a panel's query)."""
        return self._marks.find_in_value(path, word) if self._marks else None

    @field_validator("refresh", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is None:
            return None
        found = parse_duration(value)
        if found < timedelta(seconds=5):
            raise ValueError("a refresh faster than every 5s would only load the server: "
                             "write it like 30s, 5m or 1h")
        return found

    @field_validator("filters", "panels")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not re.match(NAME, key):
                raise ValueError(f"{key!r} is not a name: use letters, digits, _ and -")
        return value
