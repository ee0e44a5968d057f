"""When the scheduler maintains a table: after `every_commits` commits since it last did,
and/or when its `cron` slot is due (UTC), as its `maintenance:` block says.

Each maintained table keeps a row in `schedule_state` (kind `maintenance`): the version the
last maintenance left (`cursor.version`) and the last cron slot handled. A first look sets
the slot to the latest one without maintaining (like a new schedule: nothing is "missed").
Missed slots run once, not once each.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from afluente.config import Project
from afluente.config.maintenance import MaintenanceSpec
from afluente.errors import AfluenteError
from afluente.model import Graph, Node, load_graph
from afluente.runtime.maintenance import MaintenanceResult, maintain_tables
from afluente.scheduler.cron import CronSchedule
from afluente.state.coltypes import utc_now
from afluente.state.schedule_state import ScheduleState, ScheduleStateStore
from afluente.storage import Warehouse

log = logging.getLogger("afluente.scheduler")


def scheduled(graph: Graph) -> list[Node]:
    """The tables whose maintenance the scheduler runs (a trigger is declared)."""
    return [graph[ref] for ref in graph.order if _triggered(graph[ref].config.maintenance)]


def _triggered(spec: MaintenanceSpec | None) -> bool:
    return spec is not None and (spec.every_commits is not None or spec.cron is not None)


def why_due(spec: MaintenanceSpec, state: ScheduleState, version: int | None,
            now: datetime) -> tuple[str | None, ScheduleState]:
    """Why the table is due (None: not due), and its state with a first cron slot set."""
    if version is None:
        return None, state
    if spec.every_commits is not None:
        last = state.cursor.get("version")
        since = version - int(last) if isinstance(last, int) else version + 1
        if since >= spec.every_commits:
            return f"{since} commits since its last maintenance", state
    if spec.cron is not None:
        cron = CronSchedule(spec.cron, "UTC")
        if state.last_slot is None:
            return None, state.but(last_slot=cron.latest_at_or_before(now))
        slot = cron.latest_at_or_before(now)
        if slot > state.last_slot:
            return f"cron slot {slot:%Y-%m-%d %H:%M} UTC", state.but(last_slot=slot)
    return None, state


def maintain_due(project: Project, store: ScheduleStateStore, graph: Graph | None = None,
                 now: datetime | None = None) -> list[MaintenanceResult]:
    """Maintain every table that is due; a table that fails is logged and tried again at
    the next look (never raises: one table must not stop the scheduler)."""
    graph = graph or load_graph(project)
    now = now or utc_now()
    warehouse = Warehouse(project.warehouse_uri)
    done: list[MaintenanceResult] = []
    for node in scheduled(graph):
        spec = node.config.maintenance
        assert spec is not None
        known = store.schedule_state("maintenance", str(node.ref))
        reason, state = why_due(spec, known, warehouse.version(node.ref), now)
        if reason is None:
            if state != known:
                store.save_schedule_state(state)
            continue
        log.info("maintenance of %s: due (%s)", node.ref, reason)
        try:
            results = maintain_tables(project, str(node.ref), graph=graph)
        except AfluenteError as error:
            log.error("maintenance of %s failed: %s", node.ref, error.render())
            continue
        _log(results)
        done += results
        store.save_schedule_state(state.but(
            cursor={"version": warehouse.version(node.ref)}, last_status="success"))
    return done


def _log(results: Iterable[MaintenanceResult]) -> None:
    for result in results:
        before, after = result.done.before, result.done.after
        log.info("maintenance of %s: %d → %d files, %d → %d bytes, %d vacuumed",
                 result.table, before.files, after.files, before.bytes, after.bytes,
                 result.done.files_vacuumed)


__all__ = ["maintain_due", "scheduled", "why_due"]
