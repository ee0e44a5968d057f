"""Profile a table: per column its type, null %, distinct count, min/max/mean, top values and
a histogram of numeric columns; and starter expectations suggested from that profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from afluente.quality.compile import quote
from afluente.quality.evaluate import Queryable

TOP_VALUES = 5
BINS = 10
_NUMERIC = ("INT", "DECIMAL", "DOUBLE", "FLOAT", "REAL", "NUMERIC", "HUGEINT")


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str
    rows: int
    nulls: int
    distinct: int
    min: Any
    max: Any
    mean: float | None
    top: list[tuple[Any, int]] = field(default_factory=list)
    histogram: list[int] = field(default_factory=list)

    @property
    def null_pct(self) -> float:
        return round(100.0 * self.nulls / self.rows, 2) if self.rows else 0.0

    @property
    def numeric(self) -> bool:
        return any(t in self.type.upper() for t in _NUMERIC)


def profile(engine: Queryable, relation: str) -> list[ColumnProfile]:
    described = engine.describe_query(f"SELECT * FROM {relation}")
    return [_column(engine, relation, name, type_) for name, type_ in described.items()]


def _column(engine: Queryable, relation: str, name: str, type_: str) -> ColumnProfile:
    col = quote(name)
    numeric = any(t in type_.upper() for t in _NUMERIC)
    mean = f"avg({col})" if numeric else "NULL"
    stats = engine.query(
        f"SELECT count(*), count_if({col} IS NULL), count(DISTINCT {col}), "
        f"CAST(min({col}) AS VARCHAR), CAST(max({col}) AS VARCHAR), {mean} FROM {relation}"
    ).to_pylist()[0]
    rows, nulls, distinct, low, high, avg = stats.values()
    top = engine.query(
        f"SELECT CAST({col} AS VARCHAR) AS v, count(*) AS n FROM {relation} "
        f"WHERE {col} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_VALUES}"
    ).to_pylist()
    histogram = _histogram(engine, relation, col) if numeric and low is not None else []
    return ColumnProfile(name, type_, int(rows), int(nulls), int(distinct), low, high,
                         float(avg) if avg is not None else None,
                         [(t["v"], int(t["n"])) for t in top], histogram)


def _histogram(engine: Queryable, relation: str, col: str) -> list[int]:
    value = f"CAST({col} AS DOUBLE)"
    found = engine.query(
        f"WITH b AS (SELECT min({value}) AS lo, max({value}) AS hi FROM {relation}) "
        f"SELECT least(CAST(floor(({value} - lo) / nullif(hi - lo, 0) * {BINS}) AS INTEGER), "
        f"{BINS - 1}) AS bin, count(*) AS n FROM {relation}, b WHERE {col} IS NOT NULL "
        f"GROUP BY 1 ORDER BY 1"
    ).to_pylist()
    counts = [0] * BINS
    for row in found:
        counts[int(row["bin"] or 0)] += int(row["n"])
    return counts


def suggest(profiles: list[ColumnProfile]) -> list[dict[str, Any]]:
    """Starter expectations: not_null where no value is missing, unique where every value
    differs, accepted_values for small vocabularies, between the observed numeric range."""
    found: list[dict[str, Any]] = []
    for p in profiles:
        if p.rows and p.nulls == 0:
            found.append({"name": f"{p.name}_not_null", "not_null": p.name, "action": "warn"})
        if p.rows and p.distinct == p.rows:
            found.append({"name": f"{p.name}_unique", "unique": p.name, "action": "warn"})
        elif not p.numeric and 0 < p.distinct <= 10:
            values = sorted(v for v, _ in p.top) if p.distinct <= TOP_VALUES else None
            if values:
                found.append({"name": f"{p.name}_accepted", "action": "warn",
                              "accepted_values": {"column": p.name, "values": values}})
        if p.numeric and p.min is not None:
            found.append({"name": f"{p.name}_range", "action": "warn", "between": {
                "column": p.name, "min": float(p.min), "max": float(p.max)}})
    return found


def render_profile(table: str, profiles: list[ColumnProfile]) -> str:
    """A standalone HTML page of the profile (inline CSS bars for histograms)."""
    rows = []
    for p in profiles:
        peak = max(p.histogram or [1]) or 1
        bars = "".join(f"<span style='display:inline-block;width:6px;background:#4a7bd0;"
                       f"height:{max(1, round(30 * n / peak))}px'></span>" for n in p.histogram)
        top = ", ".join(f"{escape(str(v))} ({n})" for v, n in p.top)
        cells = [p.name, p.type, f"{p.null_pct}%", p.distinct, p.min, p.max,
                 "" if p.mean is None else round(p.mean, 4)]
        rows.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells)
                    + f"<td>{top}</td><td style='vertical-align:bottom'>{bars}</td></tr>")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Profile of {escape(table)}"
        "</title><style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem}</style></head><body>"
        f"<h1>Profile of {escape(table)}</h1><table><tr><th>column</th><th>type</th>"
        "<th>null %</th><th>distinct</th><th>min</th><th>max</th><th>mean</th>"
        "<th>top values</th><th>histogram</th></tr>" + "".join(rows) + "</table></body></html>"
    )
