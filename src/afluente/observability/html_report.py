"""`afluente health --html FILE`: one standalone HTML page (inline CSS and SVG, no script, no
CDN) with the five pillars per table and charts of rows per run, hours between updates
(freshness over time) and null rate per column."""

from __future__ import annotations

from html import escape

from afluente.observability.health import TableHealth

_COLOURS = {"ok": "#2e7d32", "warning": "#ef6c00", "error": "#c62828", "unknown": "#757575"}
_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{padding:4px 10px;border-bottom:1px solid #ddd}.chart{margin:4px 16px 4px 0}"
    "figure{display:inline-block;margin:0}figcaption{font-size:12px;color:#555}"
)


def render_html(project: str, tables: list[TableHealth]) -> str:
    rows = "".join(_row(t) for t in tables)
    heads = "".join(f"<th>{p}</th>" for p in
                    ("table", "freshness", "volume", "schema", "distribution", "lineage"))
    sections = "".join(_section(t) for t in tables)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(project)} health"
        f"</title><style>{_STYLE}</style></head><body><h1>{escape(project)}: health</h1>"
        f"<table id='pillars'><tr>{heads}</tr>{rows}</table>{sections}</body></html>"
    )


def _row(table: TableHealth) -> str:
    cells = "".join(
        f"<td class='status {s}' style='color:{_COLOURS[s]}'>{s}</td>"
        for s in table.pillars.values()
    )
    return f"<tr data-table='{escape(table.table)}'><td>{escape(table.table)}</td>{cells}</tr>"


def _section(table: TableHealth) -> str:
    rows = [float(m.rows_added or 0) for m in table.metrics]
    gaps = [
        (b - a).total_seconds() / 3600
        for a, b in zip(table.commit_times, table.commit_times[1:], strict=False)
    ]
    charts = [_chart("rows added per run", rows), _chart("hours between updates", gaps)]
    columns = table.metrics[-1].profile if table.metrics else {}
    for column in list(columns)[:6]:
        rates = [float(m.profile.get(column, {}).get("null_rate") or 0) for m in table.metrics]
        charts.append(_chart(f"null rate of {column}", rates))
    incidents = "".join(
        f"<li>{escape(i.pillar)} ({escape(i.severity)}): {escape(i.message)}</li>"
        for i in table.incidents
    )
    return (
        f"<section data-table='{escape(table.table)}'><h2>{escape(table.table)}</h2>"
        f"<p class='sla'>{_sla_text(table)}</p><ul>{incidents}</ul>{''.join(charts)}</section>"
    )


def _sla_text(table: TableHealth) -> str:
    sla = table.freshness_sla
    if sla is None:
        return "freshness SLA: none declared"
    limits = [
        f"{label} after {limit.total_seconds() / 3600:g}h"
        for label, limit in (("warning", sla.warn_after), ("error", sla.error_after))
        if limit is not None
    ]
    return "freshness SLA: " + ", ".join(limits)


def _chart(title: str, values: list[float], width: int = 240, height: int = 80) -> str:
    if not values:
        return f"<figure><figcaption>{escape(title)}: no data yet</figcaption></figure>"
    top = max(max(values), 1e-9)
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 4 - (v / top) * (height - 8):.1f}" for i, v in enumerate(values)
    )
    return (
        f"<figure><svg class='chart' width='{width}' height='{height}' role='img' "
        f"aria-label='{escape(title)}'><polyline fill='none' stroke='#1565c0' stroke-width='2' "
        f"points='{points}'/></svg><figcaption>{escape(title)} (last {values[-1]:.4g})"
        f"</figcaption></figure>"
    )
