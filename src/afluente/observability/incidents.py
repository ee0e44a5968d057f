"""Findings become incidents, and incidents become alerts.

An incident is keyed by (table, pillar, metric). A finding whose incident is already open
only refreshes it: no new alert (de-duplication). An open incident whose table was checked
again and found healthy is resolved, with a resolution alert. New incidents are grouped by
their upstream root (lineage): when `bronze.orders` loses rows and so do `silver.orders`
and `gold.revenue`, that is one alert about `bronze.orders` naming the tables it affects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from afluente.config import Project
from afluente.config.observability import SEVERITY_RANK, Severity
from afluente.model import Graph, TableRef
from afluente.observability.pillars import Finding
from afluente.state.observability import IncidentRow, ObservabilityStore


@dataclass(frozen=True)
class Alert:
    """One notification: new incidents under one root, or one resolved incident."""

    kind: str  # "incident" | "resolved"
    severity: Severity
    root: str
    incidents: tuple[IncidentRow, ...]
    downstream: tuple[str, ...]
    marts: tuple[str, ...]
    run_id: str | None

    @property
    def title(self) -> str:
        pillars = ", ".join(sorted({i.pillar for i in self.incidents}))
        if self.kind == "resolved":
            return f"[afluente] resolved: {pillars} on `{self.root}`"
        return f"[afluente] {self.severity}: {pillars} incident on `{self.root}`"

    def text(self) -> str:
        lines = [self.title]
        lines += [f"- {i.model} ({i.pillar}): {i.message}" for i in self.incidents]
        if self.downstream:
            lines.append("downstream affected: " + ", ".join(self.downstream))
        if self.marts:
            lines.append("published marts affected: " + ", ".join(self.marts))
        return "\n".join(lines)

    def payload(self) -> dict[str, object]:
        return {
            "kind": self.kind, "severity": self.severity, "title": self.title,
            "root": self.root, "run_id": self.run_id,
            "incidents": [
                {"id": i.id, "table": i.model, "pillar": i.pillar, "metric": i.metric,
                 "severity": i.severity, "message": i.message} for i in self.incidents
            ],
            "downstream": list(self.downstream), "marts": list(self.marts),
        }


def reconcile(
    store: ObservabilityStore,
    project: Project,
    graph: Graph,
    findings: list[Finding],
    checked: set[tuple[str, str]],
    run_id: str | None,
    now: datetime,
) -> list[Alert]:
    """Open, refresh and resolve incidents; return the alerts to send. `checked` holds the
    (table, pillar) pairs this evaluation looked at: only their incidents may resolve."""
    open_by_key = {i.key: i for i in store.incidents(status="open")}
    found_keys: set[tuple[str, str, str]] = {(f.model, f.pillar, f.metric) for f in findings}
    fresh: list[Finding] = []
    for finding in findings:
        existing = open_by_key.get((finding.model, finding.pillar, finding.metric))
        if existing is not None and existing.id is not None:
            store.touch_incident(existing.id, now, finding.details)
        else:
            fresh.append(finding)
    alerts = _resolutions(store, project, graph, open_by_key, found_keys, checked, run_id)
    troubled = {f.model for f in findings} | {k[0] for k in open_by_key}
    return _open_grouped(store, project, graph, fresh, troubled, run_id, now) + alerts


def _resolutions(
    store: ObservabilityStore, project: Project, graph: Graph,
    open_by_key: dict[tuple[str, str, str], IncidentRow], found: set[tuple[str, str, str]],
    checked: set[tuple[str, str]], run_id: str | None,
) -> list[Alert]:
    alerts = []
    for key, incident in open_by_key.items():
        if key in found or (key[0], key[1]) not in checked or incident.id is None:
            continue
        store.resolve_incident(incident.id, run_id)
        down, marts = impact(project, graph, [incident.model])
        alerts.append(Alert("resolved", "info", incident.model, (incident,), down, marts, run_id))
    return alerts


def _open_grouped(
    store: ObservabilityStore, project: Project, graph: Graph, fresh: list[Finding],
    troubled: set[str], run_id: str | None, now: datetime,
) -> list[Alert]:
    groups: dict[str, list[Finding]] = {}
    for finding in fresh:
        groups.setdefault(root_of(graph, finding.model, troubled), []).append(finding)
    alerts = []
    for root, members in groups.items():
        down, marts = impact(project, graph, [root])
        rows = tuple(
            store.open_incident(IncidentRow(
                model=f.model, pillar=f.pillar, metric=f.metric, severity=f.severity,
                message=f.message, root=root, downstream=list(down), details=f.details,
                opened_at=now, last_seen_at=now, opened_run_id=run_id,
            ))
            for f in members
        )
        severity = max((f.severity for f in members), key=SEVERITY_RANK.__getitem__)
        alerts.append(Alert("incident", severity, root, rows, down, marts, run_id))
    return alerts


def root_of(graph: Graph, model: str, troubled: set[str]) -> str:
    """The most upstream troubled table `model` depends on (itself when none)."""
    ref = TableRef.parse(model)
    upstream = [str(u) for u in graph.upstream_of([ref]) if str(u) in troubled and u != ref]
    if not upstream:
        return model
    order = {str(r): i for i, r in enumerate(graph.order)}
    return min(upstream, key=lambda name: order.get(name, 0))


def impact(project: Project, graph: Graph, models: Iterable[str]) -> tuple[
    tuple[str, ...], tuple[str, ...]
]:
    """Tables downstream of `models` (not themselves) and the sink tables publishing any."""
    refs = {TableRef.parse(m) for m in models}
    down = graph.downstream_of(refs) - refs
    names = {str(r) for r in refs | down}
    marts = []
    for sink_name, sink in project.config.sinks.items():
        published = sink.tables if isinstance(sink.tables, tuple) else tuple(sink.tables)
        marts += [f"{sink_name}:{t}" for t in published if t in names]
    ordered = [str(r) for r in graph.order if r in down]
    return tuple(ordered), tuple(sorted(marts))
