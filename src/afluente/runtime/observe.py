"""Observe the current state of tables and sources, for the planner."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from afluente.config import Project
from afluente.connectors import connector_for
from afluente.errors import ConnectorError, DamagedTableError
from afluente.model import Graph, TableRef
from afluente.runtime.planner import Observation
from afluente.storage import Warehouse

OBSERVE_THREADS = 4


def observe(
    project: Project, graph: Graph, selected: set[TableRef], warehouse: Warehouse,
    count_rows: bool = False, unchecked: frozenset[TableRef] = frozenset(),
) -> dict[TableRef, Observation]:
    """Versions and last commits of the selected tables and everything they read;
    `count_rows`: also the rows of each selected table whose readers see every row, from
    the same log read (a run reports them for the tables it finds up to date);
    each selected source is looked at first, except the `unchecked` ones (a micro-batch's
    streams: they are read anyway, and reading finds what is new)."""
    wanted = set(selected) | graph.upstream_of(selected)
    refs = [ref for ref in graph.order if ref in wanted]

    def one(ref: TableRef) -> Observation:
        node = graph[ref]
        if not node.materialized:
            return Observation()
        counted = count_rows and ref in selected and node.table_kind.visible_column is None
        try:
            head = warehouse.head(ref, verify=True, count_rows=counted)
        except DamagedTableError as damage:
            return Observation(damage=damage)  # this table (and its downstream) fails alone
        last, snapshot = head.last, None
        if (node.language == "source" and ref in selected and last is not None
                and ref not in unchecked):
            # a source never ingested is read in full anyway: no need to look first
            snapshot = _check(project, graph, ref, warehouse)
        return Observation(version=last.version if last else None, last=last, snapshot=snapshot,
                           rows=head.rows)

    # reading Delta logs releases the GIL: a few threads overlap the I/O and log replay
    with ThreadPoolExecutor(max_workers=OBSERVE_THREADS) as pool:
        return dict(zip(refs, pool.map(one, refs), strict=True))


def _check(project: Project, graph: Graph, ref: TableRef, warehouse: Warehouse) -> dict[str, Any]:
    """The source's state; an unreadable source plans a build that will report the error."""
    node = graph[ref]
    assert node.source_name is not None
    connector = connector_for(project, node.source_name)
    try:
        return connector.check(warehouse.progress_history(ref)).as_dict()
    except ConnectorError as exc:
        return {"signature": None, "error": exc.message}
