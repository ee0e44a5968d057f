"""Each schedule's and sensor's trigger, selection, next due time and last run: what
`afluente schedules` prints and the server's `/api/schedules` returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from afluente.config import Project
    from afluente.state.schedule_state import ScheduleState, TriggerKind

States = dict[tuple["TriggerKind", str], "ScheduleState"]


def trigger_rows(project: Project) -> list[dict[str, Any]]:
    """One row per schedule, then one per sensor, as declared in afluente.yml."""
    from afluente.state.schedule_state import ScheduleStateStore

    with ScheduleStateStore.open(project.state_url) as store:
        states = store.schedule_states()
    rows = [schedule_row(project, name, states) for name in project.config.schedules]
    return rows + [sensor_row(project, name, states) for name in project.config.sensors]


def schedule_row(project: Project, name: str, states: States) -> dict[str, Any]:
    from afluente.scheduler import CronSchedule
    from afluente.state.coltypes import utc_now

    spec = project.config.schedules[name]
    cron = CronSchedule(spec.cron, spec.timezone)
    state = states.get(("schedule", name))
    last_slot = state.last_slot if state else None
    return {
        "name": name, "kind": "schedule", "when": f"{spec.cron} ({spec.timezone})",
        "select": spec.select, "catch_up": spec.catch_up,
        "next_due": cron.next_after(utc_now()).astimezone(cron.zone).isoformat(),
        "last_slot": last_slot.astimezone(cron.zone).isoformat() if last_slot else None,
        "last_run_id": state.last_run_id if state else None,
        "last_status": state.last_status if state else None,
    }


def sensor_row(project: Project, name: str, states: States) -> dict[str, Any]:
    spec = project.config.sensors[name]
    state = states.get(("sensor", name))
    when = (f"new files in {spec.new_files}" if spec.new_files
            else f"new version of {spec.new_version}")
    return {
        "name": name, "kind": "sensor",
        "when": f"{when}, every {spec.interval.total_seconds():g}s",
        "select": spec.select, "next_due": None, "last_slot": None,
        "last_run_id": state.last_run_id if state else None,
        "last_status": state.last_status if state else None,
    }
