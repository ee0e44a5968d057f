"""Retention policies (LGPD Art. 15/16: keep personal data no longer than needed): a model
declaring `retention: 5 years` and `retention_column: ordered_at` has its rows older than
that deleted by `afluente retain`, and by the scheduler after each scheduled run. Every
deletion is in the audit log (`retention`: the column, the cutoff, rows, version)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from afluente.config import Project
from afluente.governance.audit import append_audit
from afluente.model import Graph, Node, load_graph, select
from afluente.storage import Warehouse
from afluente.storage.retention import delete_older


@dataclass(frozen=True)
class RetentionResult:
    """One table's retention pass."""

    table: str
    column: str
    retention: str
    cutoff: datetime
    rows_deleted: int
    version: int | None  # None: nothing was old enough (no commit)


def declared(graph: Graph, selector: str | None = None) -> list[Node]:
    """The selected models that declare a retention period, in build order."""
    chosen = select(graph, selector)
    return [graph[ref] for ref in graph.order
            if ref in chosen and graph[ref].config.retention_period is not None]


def cutoff_for(node: Node, now: datetime) -> datetime:
    """The oldest `retention_column` value a row may have and be kept."""
    period = node.config.retention_period
    assert period is not None
    count, unit = period
    if unit == "days":
        return now - timedelta(days=count)
    months = now.year * 12 + now.month - 1 - (count if unit == "months" else count * 12)
    year, month = divmod(months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])  # 29 Feb → 28 Feb
    return now.replace(year=year, month=month + 1, day=day)


def apply_retention(project: Project, selector: str | None = None,
                    now: datetime | None = None, graph: Graph | None = None
                    ) -> list[RetentionResult]:
    """Delete the rows past their model's retention period in every selected table that
    declares one and is built; audited per table that lost rows."""
    graph = graph or load_graph(project)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    warehouse = Warehouse(project.warehouse_uri)
    results = []
    nodes = declared(graph, selector)
    if project.config.governance is not None:  # deleting rows takes MODIFY on the table
        from afluente.governance.reader import require_modify

        require_modify(project, [n.ref for n in nodes])
    for node in nodes:
        if not warehouse.exists(node.ref):
            continue
        column = node.config.retention_column
        assert column is not None and node.config.retention is not None
        cutoff = cutoff_for(node, now)
        done = delete_older(warehouse.uri(node.ref), column, cutoff, str(node.ref),
                            warehouse.storage_options)
        result = RetentionResult(str(node.ref), column, node.config.retention, cutoff,
                                 done.rows_deleted, done.version)
        if done.version is not None:
            append_audit(project, "retention", str(node.ref), {
                "column": column, "retention": node.config.retention,
                "older_than": cutoff.isoformat(), "rows_deleted": done.rows_deleted,
                "version": done.version})
        results.append(result)
    return results


__all__ = ["RetentionResult", "apply_retention", "cutoff_for", "declared"]
