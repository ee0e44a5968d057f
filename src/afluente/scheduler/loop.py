"""The scheduler: one long-running process per state store that starts runs when a cron
slot is due or a sensor sees something new.

Design choices (see docs/orchestration.md, "Schedules and sensors"):

* One instance per state store: it holds the lock `scheduler:<project>` and beats it from a
  background thread, so a second scheduler fails at once naming the first one's pid and host.
* Runs are in-process and one at a time (`run_project` with the scheduler's stop event);
  runs started elsewhere (`afluente run`) are serialised with them by the table locks.
* A schedule writes the slot with its run id *before* the run starts and the status after.
  A slot is never started twice: a scheduler that finds a slot still `running` (it crashed)
  or `interrupted` (it was stopped) resumes that same run id — a replayed run id writes no
  table twice — so no slot is lost either.
* A sensor advances its cursor only after its run succeeded: a failed or interrupted run
  fires again at the next check.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from afluente.config import Project
from afluente.config.orchestration import ScheduleSpec, SensorSpec
from afluente.errors import AfluenteError, LockTimeoutError
from afluente.model import Graph, load_graph
from afluente.runtime import new_run_id, run_project
from afluente.runtime.retention import apply_retention
from afluente.scheduler.cron import CronSchedule
from afluente.scheduler.maintenance_trigger import maintain_due
from afluente.scheduler.sensors import check_sensor
from afluente.state.coltypes import utc_now
from afluente.state.locks import acquire_locks, beat, held_locks, release_locks
from afluente.state.schedule_state import ScheduleState, ScheduleStateStore

log = logging.getLogger("afluente.scheduler")

#: `catch_up: all` starts at most this many missed slots per tick (the rest the next tick).
MAX_CATCH_UP = 1000
UNFINISHED = ("running", "interrupted")


class Scheduler:
    """Runs a project's schedules and sensors until `stop` is set (or one tick, `once`)."""

    def __init__(
        self, project: Project, *, poll: float = 5.0, stop: threading.Event | None = None
    ) -> None:
        self.project = project
        self.poll = poll
        self.stop = stop or threading.Event()
        self.holder = f"scheduler-{new_run_id()}"
        self._sensor_checked: dict[str, float] = {}  # name -> time.monotonic() of last look
        self._graph: Graph | None = None  # the models' `maintenance:`, read at the first tick

    @property
    def lock_name(self) -> str:
        return f"scheduler:{self.project.config.name}"

    def serve(self, once: bool = False) -> None:
        """Hold the scheduler lock and tick every `poll` seconds until stopped."""
        with ScheduleStateStore.open(self.project.state_url) as store:
            self._lock(store)
            heartbeat = _Heartbeat(self.project.state_url, self.holder, self.poll)
            heartbeat.start()
            try:
                config = self.project.config
                log.info("scheduler %s started: %d schedules, %d sensors, polling every %gs",
                         self.holder, len(config.schedules), len(config.sensors), self.poll)
                self._resume_unfinished(store)
                while not self.stop.is_set():
                    self.tick(store)
                    if once:
                        break
                    self.stop.wait(self.poll)
            finally:
                heartbeat.halt()
                release_locks(store, self.holder)
                log.info("scheduler %s stopped", self.holder)

    def _lock(self, store: ScheduleStateStore) -> None:
        try:
            acquire_locks(store, [self.lock_name], self.holder, wait=timedelta(0))
        except LockTimeoutError:
            holders = [h for h in held_locks(store) if h.name == self.lock_name]
            who = holders[0].describe() if holders else "another scheduler"
            raise LockTimeoutError(
                f"another scheduler is already running for project "
                f"`{self.project.config.name}`: {who}",
                hint="stop it first (SIGTERM lets it finish its current run); one scheduler "
                "per state store",
            ) from None

    def tick(self, store: ScheduleStateStore) -> None:
        """Look once: run every due schedule slot, then every sensor whose interval passed."""
        for name, schedule in self.project.config.schedules.items():
            if self.stop.is_set():
                return
            self._tick_schedule(store, name, schedule)
        for name, sensor in self.project.config.sensors.items():
            if self.stop.is_set():
                return
            self._tick_sensor(store, name, sensor)
        if not self.stop.is_set():
            self._maintain(store)

    def _maintain(self, store: ScheduleStateStore) -> None:
        """Table maintenance that is due (docs/maintenance.md): after N commits or on a
        cron. Never raises: a failure is logged and tried again at the next tick. The
        graph is loaded once (a changed `maintenance:` block applies after a restart, like
        a changed schedule), not at every tick."""
        try:
            if self._graph is None:
                self._graph = load_graph(self.project)
            maintain_due(self.project, store, self._graph)
        except AfluenteError as error:
            log.error("maintenance: %s", error.render())

    # -- schedules ---------------------------------------------------------------------------

    def _tick_schedule(self, store: ScheduleStateStore, name: str, spec: ScheduleSpec) -> None:
        cron = CronSchedule(spec.cron, spec.timezone)
        state = store.schedule_state("schedule", name)
        now = utc_now()
        if state.last_slot is None:
            first = cron.latest_at_or_before(now)
            store.save_schedule_state(state.but(last_slot=first))
            log.info("schedule %s: first start, nothing missed; next slot %s", name,
                     _local(cron, cron.next_after(now)))
            return
        due = list(cron.slots_between(state.last_slot, now, limit=MAX_CATCH_UP))
        if not due:
            return
        if spec.catch_up == "skip" and len(due) > 1:
            log.info("schedule %s: skipping %d missed slot(s) %s (catch_up: skip)", name,
                     len(due) - 1, _listing(cron, due[:-1]))
            due = [cron.latest_at_or_before(now)]
        elif len(due) > 1:
            log.info("schedule %s: catching up %d missed slots (catch_up: all)", name, len(due))
        for slot in due:
            if self.stop.is_set():
                log.info("schedule %s: stopping; slot %s is left for the next start", name,
                         _local(cron, slot))
                return
            state = self._run_slot(store, state, spec, slot, cron)

    def _run_slot(
        self,
        store: ScheduleStateStore,
        state: ScheduleState,
        spec: ScheduleSpec,
        slot: datetime,
        cron: CronSchedule,
        run_id: str | None = None,
    ) -> ScheduleState:
        run_id = run_id or new_run_id()
        log.info("schedule %s: slot %s is due, starting run %s", state.name, _local(cron, slot),
                 run_id, extra={"run_id": run_id})
        state = store.save_schedule_state(
            state.but(last_slot=slot, last_run_id=run_id, last_status="running"))
        trigger = {"schedule": state.name, "slot": slot.isoformat()}
        if spec.stream:
            status, last_run = self._stream(spec.select, trigger)
            return store.save_schedule_state(
                state.but(last_status=status, last_run_id=last_run or run_id))
        status = self._run(spec.select, spec.full_refresh, trigger, run_id)
        return store.save_schedule_state(state.but(last_status=status))

    def _resume_unfinished(self, store: ScheduleStateStore) -> None:
        """Slots a previous scheduler started but did not finish: run the same run id."""
        for name, spec in self.project.config.schedules.items():
            state = store.schedule_state("schedule", name)
            if state.last_status not in UNFINISHED or state.last_slot is None:
                continue
            if self.stop.is_set():
                return
            log.info("schedule %s: slot %s was left %s by run %s; resuming that run", name,
                     state.last_slot.isoformat(), state.last_status, state.last_run_id)
            cron = CronSchedule(spec.cron, spec.timezone)
            self._run_slot(store, state, spec, state.last_slot, cron, state.last_run_id)

    # -- sensors -----------------------------------------------------------------------------

    def _tick_sensor(self, store: ScheduleStateStore, name: str, spec: SensorSpec) -> None:
        now = time.monotonic()
        last = self._sensor_checked.get(name)
        if last is not None and now - last < spec.interval.total_seconds():
            return
        self._sensor_checked[name] = now
        state = store.schedule_state("sensor", name)
        try:
            check = check_sensor(self.project, spec, state.cursor)
        except AfluenteError as error:
            log.error("sensor %s: cannot look: %s", name, error.render())
            return
        if not check.fire:
            log.debug("sensor %s: %s", name, check.reason)
            return
        run_id = new_run_id()
        log.info("sensor %s fired: %s; starting run %s", name, check.reason, run_id,
                 extra={"run_id": run_id})
        store.save_schedule_state(state.but(last_run_id=run_id, last_status="running"))
        status = self._run(spec.select, False, {"sensor": name, **check.trigger}, run_id)
        cursor = check.cursor if status == "success" else state.cursor
        if status != "success":
            log.warning("sensor %s: run %s ended %s; it fires again at the next look", name,
                        run_id, status, extra={"run_id": run_id})
        store.save_schedule_state(
            state.but(cursor=cursor, last_run_id=run_id, last_status=status))

    # -- runs --------------------------------------------------------------------------------

    def _run(
        self, selector: str | None, full_refresh: bool, trigger: dict[str, Any], run_id: str
    ) -> str:
        """Run in this process; returns success | failed | interrupted. Never raises: one
        broken run must not stop the scheduler."""
        try:
            result = run_project(self.project, selector, full_refresh=full_refresh,
                                 run_id=run_id, stop=self.stop, trigger=trigger)
        except AfluenteError as error:
            log.error("run %s failed: %s", run_id, error.render(), extra={"run_id": run_id})
            return "interrupted" if self.stop.is_set() else "failed"
        except Exception:
            log.exception("run %s crashed", run_id, extra={"run_id": run_id})
            return "interrupted" if self.stop.is_set() else "failed"
        status = "interrupted" if self.stop.is_set() else str(result.status)
        log.info("run %s finished: %s (%d built, %d up to date, %d failed)", run_id, status,
                 result.count("success"), result.count("up_to_date"), result.count("failed"),
                 extra={"run_id": run_id})
        if status == "success":
            self._retain(selector, run_id)
        return status

    def _retain(self, selector: str | None, run_id: str) -> None:
        """After a successful run, the retention periods its tables declare (rows older are
        deleted: docs/lgpd.md). Never raises: a failed deletion is logged and retried
        after the next run."""
        try:
            for done in apply_retention(self.project, selector):
                if done.version is not None:
                    log.info("retention: %s lost %d rows older than %s (version %d)",
                             done.table, done.rows_deleted, done.cutoff.date(), done.version,
                             extra={"run_id": run_id})
        except AfluenteError as error:
            log.error("retention after run %s failed: %s", run_id, error.render(),
                      extra={"run_id": run_id})


    def _stream(self, selector: str | None, trigger: dict[str, Any]) -> tuple[str, str | None]:
        """An available-now stream in this process (each micro-batch a run of its own id);
        returns its status and the last micro-batch's run id. Never raises. A stream
        resumes from what its bronze tables hold, so an interrupted slot needs no replay."""
        from afluente.runtime.stream import AVAILABLE_NOW, parse_trigger, stream_project

        runs: list[str] = []
        try:
            outcome = stream_project(
                self.project, parse_trigger(AVAILABLE_NOW), selector=selector, stop=self.stop,
                on_batch=lambda _, result: runs.append(result.run_id), trigger_of_run=trigger)
        except AfluenteError as error:
            log.error("stream of %s failed: %s", trigger["schedule"], error.render())
            return ("interrupted" if self.stop.is_set() else "failed"), runs[-1] if runs else None
        except Exception:
            log.exception("stream of %s crashed", trigger["schedule"])
            return ("interrupted" if self.stop.is_set() else "failed"), runs[-1] if runs else None
        log.info("stream of %s %s after %d micro-batches, %d source rows", trigger["schedule"],
                 "stopped" if outcome.stopped else "drained", outcome.batches, outcome.rows)
        return ("interrupted" if outcome.stopped else "success"), runs[-1] if runs else None


def _local(cron: CronSchedule, slot: datetime) -> str:
    return slot.astimezone(cron.zone).isoformat()


def _listing(cron: CronSchedule, slots: list[datetime], shown: int = 5) -> str:
    text = ", ".join(_local(cron, s) for s in slots[:shown])
    return text + (f" and {len(slots) - shown} more" if len(slots) > shown else "")


class _Heartbeat(threading.Thread):
    """Beats the scheduler's lock while it runs (runs can take longer than a poll)."""

    def __init__(self, state_url: str, holder: str, poll: float) -> None:
        super().__init__(name="afluente-scheduler-heartbeat", daemon=True)
        self._url, self._holder = state_url, holder
        self._every = min(max(poll, 1.0), 30.0)
        self._halt = threading.Event()

    def run(self) -> None:
        with ScheduleStateStore.open(self._url) as store:
            while not self._halt.wait(self._every):
                try:
                    beat(store, self._holder)
                except AfluenteError as error:
                    log.warning("scheduler heartbeat failed: %s", error.render())

    def halt(self) -> None:
        self._halt.set()
        self.join(timeout=10)


def stop_on_signals(
    stop: threading.Event, signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT)
) -> None:
    """SIGTERM/SIGINT set `stop`: the current run finishes its commits, nothing new starts."""

    def handle(number: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            log.info("received %s: finishing the current run, starting nothing new",
                     signal.Signals(number).name)
        stop.set()

    for sig in signals:
        signal.signal(sig, handle)
