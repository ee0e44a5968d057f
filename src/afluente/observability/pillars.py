"""The pillars as checks: each turns metrics (and history) into findings. Pure functions of
their inputs except freshness, which reads the newest Delta commit of each table (one log
read, no scan). Lineage is not a check of its own: it shapes every alert (see
:mod:`afluente.observability.incidents`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from afluente.config import Project
from afluente.config.observability import DetectorConfig, FreshnessSLA, Severity
from afluente.errors import DamagedTableError
from afluente.model import Graph, TableRef
from afluente.observability.detector import Point, judge
from afluente.observability.schema_diff import diff_schemas, stopped_arriving
from afluente.state.observability import MetricsRow
from afluente.storage import Warehouse

Pillar = Literal["freshness", "volume", "schema", "distribution", "lineage"]
PILLARS: tuple[Pillar, ...] = ("freshness", "volume", "schema", "distribution", "lineage")
RATE_FLOOR = 0.02  # null rates: changes under 2 points are never anomalies
RELATIVE_FLOOR = 0.05  # counts and means: changes under 5% of the median are never anomalies


@dataclass(frozen=True)
class Finding:
    """Something wrong with one table, found by one pillar."""

    model: str
    pillar: Pillar
    metric: str
    severity: Severity
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def sla_of(project: Project, graph: Graph, ref: TableRef) -> FreshnessSLA | None:
    node = graph[ref]
    if node.source_name is not None:
        return project.config.sources[node.source_name].freshness
    return node.config.freshness


def freshness_lag(warehouse: Warehouse, ref: TableRef, now: datetime) -> float | None:
    """Seconds since the table's newest commit (None: never built, or damaged: unknown)."""
    try:
        last = warehouse.last_commit(ref)
    except DamagedTableError:
        return None  # `afluente health` reports the damage itself
    return None if last is None else max((now - last.timestamp).total_seconds(), 0.0)


def check_freshness(
    project: Project, graph: Graph, warehouse: Warehouse, now: datetime
) -> tuple[list[Finding], set[str]]:
    """Findings for tables past their SLA, and the tables that were checked."""
    findings: list[Finding] = []
    checked: set[str] = set()
    for ref in graph.order:
        sla = sla_of(project, graph, ref)
        if sla is None or not graph[ref].materialized:
            continue
        checked.add(str(ref))
        lag = freshness_lag(warehouse, ref, now)
        if lag is None:
            continue
        finding = _stale(str(ref), lag, sla)
        if finding is not None:
            findings.append(finding)
    return findings, checked


def _stale(model: str, lag: float, sla: FreshnessSLA) -> Finding | None:
    for severity, limit in (("error", sla.error_after), ("warning", sla.warn_after)):
        if limit is not None and lag > limit.total_seconds():
            hours = lag / 3600
            return Finding(
                model, "freshness", "lag", severity,  # type: ignore[arg-type]
                f"`{model}` was last updated {hours:.1f}h ago (SLA: {severity} after {limit})",
                {"lag_s": round(lag), "limit_s": limit.total_seconds()},
            )
    return None


def check_volume(
    row: MetricsRow, history: list[MetricsRow], config: DetectorConfig
) -> list[Finding]:
    if row.rows_added is None:
        return []
    points = [
        Point(h.finished_at, float(h.rows_added)) for h in history if h.rows_added is not None
    ]
    floor = max(RELATIVE_FLOOR * abs(_median(points)), 1.0)
    verdict = judge(float(row.rows_added), row.finished_at, points, config, floor)
    if not verdict.anomalous:
        return []
    severity: Severity = "error" if abs(verdict.score or 0) >= 2 * config.threshold else "warning"
    return [Finding(
        row.model, "volume", "rows_added", severity,
        f"`{row.model}` got {row.rows_added} rows this run, expected about "
        f"{verdict.expected:.0f} (robust z = {verdict.score}, {verdict.baseline} runs)",
        {"value": row.rows_added, "expected": verdict.expected, "score": verdict.score},
    )]


def check_schema(row: MetricsRow, history: list[MetricsRow], ingested: bool) -> list[Finding]:
    changes = diff_schemas(history[-1].columns, row.columns) if history else []
    if ingested and history:
        changes += stopped_arriving(row.profile, [h.profile for h in history[-5:]])
    if not changes:
        return []
    breaking = any(c.breaking for c in changes)
    return [Finding(
        row.model, "schema", "columns", "error" if breaking else "info",
        f"`{row.model}` schema changed: " + "; ".join(c.describe() for c in changes),
        {"changes": [vars(c) for c in changes], "breaking": breaking},
    )]


def check_distribution(
    row: MetricsRow, history: list[MetricsRow], config: DetectorConfig, skip: Iterable[str] = ()
) -> list[Finding]:
    findings: list[Finding] = []
    skipped = set(skip)
    for column, stats in row.profile.items():
        if column in skipped:
            continue
        for stat in ("null_rate", "distinct", "mean"):
            finding = _column_anomaly(row, history, config, column, stat, stats.get(stat))
            if finding is not None:
                findings.append(finding)
    return findings


def _column_anomaly(
    row: MetricsRow, history: list[MetricsRow], config: DetectorConfig,
    column: str, stat: str, value: float | None,
) -> Finding | None:
    if value is None:
        return None
    points = [
        Point(h.finished_at, v)
        for h in history
        if (v := h.profile.get(column, {}).get(stat)) is not None
    ]
    floor = RATE_FLOOR if stat == "null_rate" else max(RELATIVE_FLOOR * abs(_median(points)), 1.0)
    verdict = judge(value, row.finished_at, points, config, floor)
    if not verdict.anomalous:
        return None
    return Finding(
        row.model, "distribution", f"{column}.{stat}", "warning",
        f"`{row.model}.{column}` {stat.replace('_', ' ')} is {value:.4g}, expected about "
        f"{verdict.expected:.4g} (robust z = {verdict.score}, {verdict.baseline} runs)",
        {"column": column, "stat": stat, "value": value, "expected": verdict.expected,
         "score": verdict.score},
    )


#: the event a `score` table's build records about its new scores (afluente.ml.drift)
PREDICTION_DRIFT = "prediction_drift"


def check_prediction_drift(payloads: Iterable[tuple[str, dict[str, Any]]]) -> list[Finding]:
    """Findings of the distribution pillar for the score tables whose new predictions
    drifted from their model's training predictions (`payloads`: each table and its
    `prediction_drift` event of the run)."""
    return [
        Finding(
            model, "distribution", "prediction.psi", "warning",
            f"`{model}` predictions drifted from those `{p['model']}` v{p['version']} made on "
            f"its holdout: PSI {p['psi']} over {p['rows']} rows (0.25 or more is a shift)",
            {"psi": p["psi"], "rows": p["rows"], "model": p["model"], "version": p["version"]},
        )
        for model, p in payloads if p.get("drifting")
    ]


def _median(points: list[Point]) -> float:
    values = sorted(p.value for p in points)
    return values[len(values) // 2] if values else 0.0
