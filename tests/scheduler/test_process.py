"""`afluente scheduler` as a real process: a sensor firing on a landed file, graceful
SIGTERM, one instance per store, catch-up of missed slots, resuming an unfinished slot and
a sensor on an upstream table's new Delta version."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.scheduler.conftest import land, write_project

from afluente.config import load_project
from afluente.model import TableRef
from afluente.state.schedule_state import ScheduleState, ScheduleStateStore
from afluente.storage import Warehouse

AFLUENTE = [sys.executable, "-m", "afluente"]
FILES_SENSOR = """\
sensors:
  landed:
    new_files: orders
    select: bronze.orders+
    interval: 1s
"""
YEARLY = """\
schedules:
  yearly:
    cron: "0 0 1 1 *"
    select: bronze.orders+
    catch_up: {catch_up}
"""
VERSION_SENSOR = """\
sensors:
  upstream:
    new_version: bronze.orders
    select: silver.orders
"""


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AFLUENTE, "-p", str(root), *args], capture_output=True, text=True,
                          timeout=180)


def start_scheduler(root: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen([*AFLUENTE, "-p", str(root), "scheduler", "--poll", "0.2"],
                                stdout=subprocess.DEVNULL, stderr=err)


def log_lines(log: Path) -> list[dict[str, Any]]:
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


def messages(log: Path) -> list[str]:
    return [e["message"] for e in log_lines(log) if e["logger"] == "afluente.scheduler"]


def wait_until(check: Callable[[], bool], what: str, process: subprocess.Popen[bytes],
               log: Path) -> None:
    """Poll `check`; a bound (not a timing assertion) so a broken scheduler fails the test."""
    deadline = time.monotonic() + 120
    while not check():
        if process.poll() is not None:
            pytest.fail(f"scheduler exited {process.returncode} before {what}:\n"
                        + log.read_text())
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {what} after 120 s:\n" + log.read_text())
        time.sleep(0.2)


def runs(root: Path) -> list[Any]:
    """Every run of the project, oldest first."""
    with ScheduleStateStore.open(load_project(root).state_url) as store:
        return sorted(store.list_runs(limit=100), key=lambda r: r.started_at)


def rows(root: Path, table: str) -> int:
    warehouse = Warehouse(load_project(root).warehouse_uri)
    ref = TableRef.parse(table)
    return warehouse.dataset(ref).count_rows() if warehouse.exists(ref) else 0


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=120)


def test_files_sensor_fires_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", FILES_SENSOR)
    log = tmp_path / "scheduler.log"
    process = start_scheduler(root, log)
    wait_until(lambda: any("started" in m for m in messages(log)), "start", process, log)
    land(root, "orders_1.csv", range(1, 6))
    wait_until(lambda: rows(root, "silver.orders") == 5, "silver.orders rows", process, log)
    wait_until(lambda: any("finished: success" in m for m in messages(log)), "run end",
               process, log)
    assert stop(process) == 0
    said = messages(log)
    assert "sensor landed fired: 1 new file in `orders`" in " ".join(said)
    assert "received SIGTERM: finishing the current run, starting nothing new" in said
    assert said[-1].startswith("scheduler scheduler-") and said[-1].endswith(" stopped")
    [run] = runs(root)
    assert run.status == "success"
    assert run.args["trigger"] == {"sensor": "landed", "source": "orders",
                                   "files": ["landing/orders/orders_1.csv"],
                                   "new_files": 1}


def test_a_second_scheduler_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", FILES_SENSOR)
    log = tmp_path / "scheduler.log"
    first = start_scheduler(root, log)
    wait_until(lambda: any("started" in m for m in messages(log)), "start", first, log)
    second = afluente(root, "scheduler", "--once")
    assert stop(first) == 0
    assert second.returncode == 1
    assert "another scheduler is already running for project `sched`" in second.stderr
    assert f"pid {first.pid}" in second.stderr
    # the lock went with the first one: now a scheduler starts
    assert afluente(root, "scheduler", "--once").returncode == 0


def seed(root: Path, state: ScheduleState) -> None:
    with ScheduleStateStore.open(load_project(root).state_url) as store:
        store.save_schedule_state(state)


def new_year(years_ago: int) -> datetime:
    return datetime(datetime.now(UTC).year - years_ago, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("catch_up", "years"), [("all", [2, 1, 0]), ("skip", [0])])
def test_missed_slots_catch_up(tmp_path: Path, catch_up: str, years: list[int]) -> None:
    root = write_project(tmp_path / "p", YEARLY.format(catch_up=catch_up))
    land(root, "orders_1.csv", range(1, 4))
    seed(root, ScheduleState("yearly", "schedule", last_slot=new_year(3), last_status="success"))
    done = afluente(root, "scheduler", "--once")
    assert done.returncode == 0, done.stderr
    made = runs(root)
    assert [r.args["trigger"] for r in made] == [
        {"schedule": "yearly", "slot": new_year(n).isoformat()} for n in years
    ]
    assert {r.status for r in made} == {"success"}
    assert rows(root, "silver.orders") == 3
    with ScheduleStateStore.open(load_project(root).state_url) as store:
        state = store.schedule_state("schedule", "yearly")
    assert (state.last_slot, state.last_status) == (new_year(0), "success")
    assert state.last_run_id == made[-1].run_id
    if catch_up == "skip":
        assert "schedule yearly: skipping 2 missed slot(s)" in done.stderr


def test_an_unfinished_slot_resumes_its_run_id(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", YEARLY.format(catch_up="skip"))
    land(root, "orders_1.csv", range(1, 4))
    seed(root, ScheduleState("yearly", "schedule", last_slot=new_year(0),
                             last_run_id="20260101T000000-abcdef", last_status="running"))
    done = afluente(root, "scheduler", "--once")
    assert done.returncode == 0, done.stderr
    [run] = runs(root)  # the slot ran once, under the id it was given before the crash
    assert run.run_id == "20260101T000000-abcdef"
    assert run.args["trigger"] == {"schedule": "yearly", "slot": new_year(0).isoformat()}
    assert "resuming that run" in done.stderr


def test_new_version_sensor_fires_once_per_upstream_commit(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", VERSION_SENSOR)
    land(root, "orders_1.csv", range(1, 4))
    assert afluente(root, "run", "--select", "bronze.orders").returncode == 0
    assert afluente(root, "scheduler", "--once").returncode == 0
    assert afluente(root, "scheduler", "--once").returncode == 0  # nothing new: no run
    land(root, "orders_2.csv", range(4, 6))
    assert afluente(root, "run", "--select", "bronze.orders").returncode == 0
    assert afluente(root, "scheduler", "--once").returncode == 0
    triggers = [r.args.get("trigger") for r in runs(root)]
    assert triggers == [
        None,
        {"sensor": "upstream", "table": "bronze.orders", "version": 0},
        None,
        {"sensor": "upstream", "table": "bronze.orders", "version": 1},
    ]
    assert rows(root, "silver.orders") == 5


def test_sigterm_during_catch_up_starts_nothing_new_and_the_next_start_finishes(
    tmp_path: Path,
) -> None:
    root = write_project(tmp_path / "p", YEARLY.format(catch_up="all"))
    land(root, "orders_1.csv", range(1, 4))
    seed(root, ScheduleState("yearly", "schedule", last_slot=new_year(20),
                             last_status="success"))
    log = tmp_path / "scheduler.log"
    process = start_scheduler(root, log)
    wait_until(lambda: any("finished" in m for m in messages(log)), "a first run", process, log)
    assert stop(process) == 0
    stopped_after = len(runs(root))
    assert 1 <= stopped_after < 20
    assert any("is left for the next start" in m or "finished: interrupted" in m
               for m in messages(log))
    done = afluente(root, "scheduler", "--once")
    assert done.returncode == 0, done.stderr
    slots = [r.args["trigger"]["slot"] for r in runs(root)]
    assert slots == [new_year(n).isoformat() for n in range(19, -1, -1)]  # each once, in order
