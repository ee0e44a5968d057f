"""Observability after a run, and on demand: collect metrics, run the pillars, reconcile
incidents, send alerts. :func:`observe_run` is what `afluente run` calls when it finishes;
:func:`check_project` evaluates freshness at any time (for a scheduler or `afluente health
--alert`), since a table that stops being updated triggers no run to notice it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from afluente.config import Project
from afluente.engines import project_engine
from afluente.model import Graph, TableRef, load_graph
from afluente.observability.alerts import AlertError, send_alerts
from afluente.observability.incidents import Alert, reconcile
from afluente.observability.metrics import UPSERTED_ROWS, Outcome, collect_metrics
from afluente.observability.pillars import (
    PREDICTION_DRIFT,
    Finding,
    check_distribution,
    check_freshness,
    check_prediction_drift,
    check_schema,
    check_volume,
)
from afluente.observability.profile import PROFILE_ROWS
from afluente.state.observability import IncidentRow, MetricsRow, ObservabilityStore
from afluente.storage import Warehouse

HISTORY_LIMIT = 200


@dataclass(frozen=True)
class Observed:
    metrics: list[MetricsRow]
    findings: list[Finding]
    alerts: list[Alert]
    failures: list[AlertError]


def observe_run(
    project: Project, graph: Graph, run_id: str, outcomes: Iterable[Outcome],
    now: datetime | None = None, micro_batch: bool = False,
) -> Observed:
    """Record this run's metrics and evaluate every pillar of the tables it wrote. A
    `micro_batch` of a stream records its metrics without column profiles and is judged on
    schema and freshness only: its size is the pace of arrivals, not a volume to expect."""
    now = now or datetime.now(UTC)
    warehouse = Warehouse(project.warehouse_uri)
    config = project.config.alerts
    with ObservabilityStore.open(project.state_url) as store:
        rows = collect_metrics(warehouse, graph, run_id, now, outcomes,
                               config.distribution and not micro_batch,
                               new_engine=lambda: project_engine(project))
        # a micro-batch's schema check compares with the previous run only
        depth = 1 if micro_batch else HISTORY_LIMIT
        history = {r.model: store.metrics(r.model, limit=depth) for r in rows}
        incidents = store.incidents()
        store.record_metrics(rows)
        findings, checked = check_freshness(project, graph, warehouse, now)
        scope = {(m, "freshness") for m in checked}
        judged = ("schema",) if micro_batch else ("volume", "schema", "distribution")
        for row in rows:
            findings += _pillars(project, graph, row, history[row.model], incidents, judged)
            scope |= {(row.model, p) for p in judged}
        findings += check_prediction_drift(_drift_events(project, graph, run_id, rows))
        alerts = reconcile(store, project, graph, findings, scope, run_id, now)
    return Observed(rows, findings, alerts, send_alerts(alerts, config))


def _drift_events(project: Project, graph: Graph, run_id: str, rows: list[MetricsRow]
                  ) -> list[tuple[str, dict[str, Any]]]:
    """The `prediction_drift` events of this run's score tables (runtime/ml_build.py)."""
    scored = {r.model for r in rows if graph[TableRef.parse(r.model)].kind == "score"}
    if not scored:
        return []
    from afluente.state import StateStore

    with StateStore.open(project.state_url) as state:
        return [(e.model, e.payload) for e in state.events(run_id)
                if e.type == PREDICTION_DRIFT and e.model in scored]


def check_project(project: Project, now: datetime | None = None) -> Observed:
    """Freshness of every table with an SLA, right now: incidents and alerts, no run."""
    now = now or datetime.now(UTC)
    graph = load_graph(project)
    warehouse = Warehouse(project.warehouse_uri)
    with ObservabilityStore.open(project.state_url) as store:
        findings, checked = check_freshness(project, graph, warehouse, now)
        scope = {(m, "freshness") for m in checked}
        alerts = reconcile(store, project, graph, findings, scope, None, now)
    return Observed([], findings, alerts, send_alerts(alerts, project.config.alerts))


def _pillars(
    project: Project, graph: Graph, row: MetricsRow, history: list[MetricsRow],
    incidents: list[IncidentRow], judged: tuple[str, ...],
) -> list[Finding]:
    config = project.config.alerts.detector
    ingested = graph[TableRef.parse(row.model)].language == "source"
    schema = check_schema(row, history, ingested)
    if "volume" not in judged:
        return schema
    stopped = {
        c["column"] for f in schema for c in f.details["changes"] if c["kind"] == "stopped_arriving"
    }
    volume = check_volume(row, _healthy(history, incidents, row.model, "volume"), config)
    baseline = _healthy(history, incidents, row.model, "distribution")
    kind = graph[TableRef.parse(row.model)].kind
    if kind == "append":
        baseline = [h for h in baseline if profiled_added_rows(h)]
    elif kind in UPSERTED_ROWS:  # a profile of the files written is judged by its likes
        baseline = [h for h in baseline if profiled_part(h) == profiled_part(row)]
    # distinct counts follow the volume: a volume incident already explains them
    distribution = check_distribution(row, baseline, config, skip=stopped)
    if volume:
        distribution = [f for f in distribution if not f.metric.endswith(".distinct")]
    return schema + volume + distribution


def profiled_added_rows(row: MetricsRow) -> bool:
    """Was this run's profile of the rows it added (no more rows profiled than added, up to
    the profile's limit; rescued rows are left out)? An `append` model is profiled that way;
    runs recorded before it was (profiles of the whole table) are no baseline for a batch."""
    first = next(iter(row.profile.values()), None)
    if first is None or row.rows_added is None:
        return True
    profiled = first.get("rows")
    return profiled is None or profiled <= min(row.rows_added, PROFILE_ROWS)


def profiled_part(row: MetricsRow) -> bool:
    """Was this run's profile of part of the table (the files an upsert wrote) rather
    than of all of it, up to the profile's limit?"""
    first = next(iter(row.profile.values()), None)
    if first is None or first.get("rows") is None or row.row_count is None:
        return False
    return float(first["rows"] or 0) < min(row.row_count, PROFILE_ROWS)


def _healthy(
    history: list[MetricsRow], incidents: list[IncidentRow], model: str, pillar: str
) -> list[MetricsRow]:
    """History without the runs that were part of an incident of this pillar: a bad run
    must not become the baseline the next run is judged by."""
    spans = [
        (i.opened_at, i.resolved_at)
        for i in incidents
        if i.model == model and i.pillar == pillar
    ]
    return [
        h for h in history
        if not any(start <= h.finished_at and (end is None or h.finished_at < end)
                   for start, end in spans)
    ]
