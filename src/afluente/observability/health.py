"""The health of every table across the five pillars, for `afluente health`, its HTML
report and the Prometheus endpoint. Status per pillar: `ok`, `warning`, `error` (an open
incident, or freshness past its SLA) or `unknown` (no SLA, or no run recorded yet): a table
without a declared SLA is never called fresh, since nothing says how fresh it should be."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from afluente.config import Project
from afluente.config.observability import FreshnessSLA
from afluente.errors import DamagedTableError
from afluente.model import Graph, TableRef, load_graph, select
from afluente.observability.pillars import PILLARS, check_freshness, freshness_lag, sla_of
from afluente.state.observability import IncidentRow, MetricsRow, ObservabilityStore
from afluente.storage import Warehouse


@dataclass(frozen=True)
class TableHealth:
    table: str
    pillars: dict[str, str]
    freshness_lag_s: float | None
    incidents: list[IncidentRow]
    metrics: list[MetricsRow] = field(default_factory=list)
    commit_times: list[datetime] = field(default_factory=list)
    freshness_sla: FreshnessSLA | None = None
    damage: str | None = None  # its Delta log or a data file is unreadable
    stream: dict[str, Any] | None = None  # a streaming source's latest micro-batch


    def as_json(self) -> dict[str, Any]:
        last = self.metrics[-1] if self.metrics else None
        return {
            "table": self.table, "pillars": self.pillars,
            "freshness_lag_s": self.freshness_lag_s,
            "freshness_sla": _sla_json(self.freshness_sla),
            "rows": last.row_count if last else None,
            "runs": len(self.metrics),
            "damage": self.damage,
            "stream": self.stream,
            "incidents": [
                {"id": i.id, "pillar": i.pillar, "metric": i.metric, "severity": i.severity,
                 "message": i.message, "root": i.root, "downstream": i.downstream}
                for i in self.incidents
            ],
        }


def project_health(
    project: Project, selector: str | None = None, now: datetime | None = None
) -> list[TableHealth]:
    now = now or datetime.now(UTC)
    graph = load_graph(project)
    warehouse = Warehouse(project.warehouse_uri)
    stale, _ = check_freshness(project, graph, warehouse, now)
    late: dict[str, str] = {f.model: f.severity for f in stale}
    chosen = select(graph, selector)
    shown = [ref for ref in graph.order if ref in chosen and graph[ref].materialized]
    with ObservabilityStore.open(project.state_url) as store:
        incidents = store.incidents("open")
        metrics = store.metrics(limit=100_000)
        streams = _latest_stream_progress(store, graph, shown)
    return [
        replace(_table(graph, warehouse, str(ref), now, late, incidents, metrics,
                       sla_of(project, graph, ref)), stream=streams.get(ref))
        for ref in shown
    ]


def _latest_stream_progress(
    store: ObservabilityStore, graph: Graph, refs: list[TableRef]
) -> dict[TableRef, dict[str, Any]]:
    """The newest `stream_progress` event of each source table that has one: its lag per
    partition, micro-batch duration and end-to-end latency, and when it was recorded."""
    found: dict[TableRef, dict[str, Any]] = {}
    for ref in refs:
        if graph[ref].source_name is None:
            continue
        event = store.last_event("stream_progress", str(ref))
        if event is not None and event.ts is not None:
            found[ref] = {**event.payload, "at": event.ts.isoformat()}
    return found


def _table(
    graph: Graph, warehouse: Warehouse, name: str, now: datetime, late: dict[str, str],
    incidents: list[IncidentRow], metrics: list[MetricsRow], sla: FreshnessSLA | None,
) -> TableHealth:
    from afluente.observability.incidents import root_of

    ref = TableRef.parse(name)
    mine = [i for i in incidents if i.model == name]
    history = [m for m in metrics if m.model == name]
    pillars: dict[str, str] = {}
    commits, damage = _commit_times(warehouse, ref)
    for pillar in PILLARS[:-1]:
        severities = {i.severity for i in mine if i.pillar == pillar}
        severities |= {"error"} if damage else set()
        known = bool(history)
        if pillar == "freshness":
            known = sla is not None and bool(commits)
            severities |= {late[name]} if name in late else set()
        pillars[pillar] = _worst(severities, known)
    troubled = {i.model for i in incidents}
    upstream = root_of(graph, name, troubled) if troubled else name
    pillars["lineage"] = "warning" if upstream != name else "ok"
    return TableHealth(
        name, pillars, freshness_lag(warehouse, ref, now), mine, history, commits[::-1], sla,
        damage,
    )


def _commit_times(warehouse: Warehouse, ref: TableRef) -> tuple[list[datetime], str | None]:
    """The newest commits' times, or the damage that keeps them from being read."""
    try:
        return ([c.timestamp for c in warehouse.history(ref, 50)]
                if warehouse.exists(ref) else []), None
    except DamagedTableError as error:
        return [], error.render()


def _worst(severities: set[str], known: bool) -> str:
    if "error" in severities:
        return "error"
    if "warning" in severities:
        return "warning"
    return "ok" if known or severities else "unknown"


def _sla_json(sla: FreshnessSLA | None) -> dict[str, float | None] | None:
    """The SLA in seconds (what tools compare `freshness_lag_s` with)."""
    if sla is None:
        return None
    return {
        "warn_after_s": sla.warn_after.total_seconds() if sla.warn_after else None,
        "error_after_s": sla.error_after.total_seconds() if sla.error_after else None,
    }
