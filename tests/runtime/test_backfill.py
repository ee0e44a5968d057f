"""`afluente backfill` in real processes: exactly the range's partitions, idempotent re-runs
of one partition, resume after kill -9, parallel workers, bad input that writes nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.state.backfill_state import BackfillStore, PartitionRecord
from afluente.storage import Warehouse

AFLUENTE = str(Path(sys.executable).parent / "afluente")
DAILY, SLOW = TableRef("silver", "daily"), TableRef("silver", "slow_daily")

DAILY_SQL = """\
/* @config
kind: time_range
time_column: day
partition_by: day
*/
SELECT CAST(CAST(ts AS TIMESTAMP) AS DATE) AS day, count(*) AS events,
       sum(CAST(amount AS INTEGER)) AS amount
FROM bronze.events
WHERE getvariable('partition_start') IS NULL
   OR (CAST(ts AS TIMESTAMP) >= getvariable('partition_start')
       AND CAST(ts AS TIMESTAMP) < getvariable('partition_end'))
GROUP BY 1
"""

# ignores the partition bounds (its output is cut to the partition) and is slow enough to
# be killed half-way
SLOW_PY = """\
import time

import afluente


@afluente.table(inputs=["bronze.events"], kind="time_range", time_column="day")
def slow_daily(events):
    time.sleep(0.5)
    return events.query(
        "e", "SELECT CAST(CAST(ts AS TIMESTAMP) AS DATE) AS day, count(*) AS events "
        "FROM e GROUP BY 1"
    )
"""


def make_project(root: Path) -> Path:
    """Events over 2026-01-01..10: day d has d events with amounts 1..d."""
    (root / "landing").mkdir(parents=True)
    (root / "models" / "silver").mkdir(parents=True)
    (root / "afluente.yml").write_text(
        "name: bf\nsources:\n  events:\n    type: files\n    path: landing/*.csv\n"
    )
    (root / "models" / "silver" / "daily.sql").write_text(DAILY_SQL)
    (root / "models" / "silver" / "slow_daily.py").write_text(SLOW_PY)
    land(root, "a.csv", {d: d for d in range(1, 11)})
    return root


def land(root: Path, name: str, per_day: dict[int, int]) -> None:
    lines = [f"{d}{k},2026-01-{d:02d} {k % 24:02d}:30:00,{k + 1}"
             for d, n in per_day.items() for k in range(n)]
    (root / "landing" / name).write_text("id,ts,amount\n" + "\n".join(lines) + "\n")
    assert run_project(load_project(root), "bronze.events").status == "success"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with bronze.events built, once for the module: each test takes a copy."""
    return make_project(tmp_path_factory.mktemp("made") / "p")


@pytest.fixture(scope="module")
def backfilled(made: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of `made` with silver.daily backfilled for 2026-01-01..02."""
    root = copy_of(made, tmp_path_factory.mktemp("backfilled"))
    backfill(root, "silver.daily", "--start", "2026-01-01", "--end", "2026-01-02")
    return root


def copy_of(project: Path, folder: Path) -> Path:
    return Path(shutil.copytree(project, folder / "p"))


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AFLUENTE, "-p", str(root), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})


def afluente_here(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`afluente` in this process, for commands that stop at bad input before any work."""
    return run_afluente(["-p", str(root), *args], env={"COLUMNS": "200"})


def backfill(root: Path, *args: str) -> dict[str, object]:
    done = afluente(root, "backfill", *args, "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert isinstance(payload, dict)
    return payload


def content(root: Path, ref: TableRef) -> dict[str, tuple[object, ...]]:
    """partition -> its rows (without the partition column), by value."""
    table = Warehouse(load_project(root).warehouse_uri).dataset(ref).to_table()
    rows: dict[str, tuple[object, ...]] = {}
    for row in table.to_pylist():
        key = str(row.pop("_partition_day"))
        rows[key] = (*rows.get(key, ()), tuple(sorted(row.items())))
    return rows


def events_per_day(root: Path, ref: TableRef) -> dict[str, int]:
    table = Warehouse(load_project(root).warehouse_uri).dataset(ref).to_table()
    return {str(r["_partition_day"]): r["events"] for r in table.to_pylist()}


def version(root: Path, ref: TableRef) -> int | None:
    return Warehouse(load_project(root).warehouse_uri).version(ref)


def recorded(root: Path, backfill_id: str) -> list[PartitionRecord]:
    with BackfillStore.open(load_project(root).state_url) as store:
        return store.partitions(backfill_id)


def test_backfill_builds_exactly_the_range_with_two_workers(made: Path, tmp_path: Path) -> None:
    root = copy_of(made, tmp_path)
    payload = backfill(root, "silver.daily", "--start", "2026-01-03", "--end", "2026-01-07",
                       "--workers", "2")
    assert payload["status"] == "success"
    assert payload["partitions_done"] == 5 and payload["rows"] == 5
    assert events_per_day(root, DAILY) == {f"2026-01-{d:02d}": d for d in range(3, 8)}
    rows = recorded(root, str(payload["backfill_id"]))
    assert [(r.partition, r.status, r.rows_written) for r in rows] == [
        (f"2026-01-{d:02d}", "success", 1) for d in range(3, 8)
    ]
    assert len({r.run_id for r in rows}) == 5  # one commit per partition
    assert version(root, DAILY) == 4


def test_rerunning_one_partition_replaces_only_that_partition(made: Path, tmp_path: Path) -> None:
    root = copy_of(made, tmp_path)
    backfill(root, "silver.daily", "--start", "2026-01-01", "--end", "2026-01-10")
    before = content(root, DAILY)
    land(root, "b.csv", {4: 3, 8: 2})  # late events on the 4th and the 8th
    for _ in range(2):  # twice: the partition holds its rows once
        backfill(root, "silver.daily", "--start", "2026-01-04", "--end", "2026-01-04")
    after = content(root, DAILY)
    assert events_per_day(root, DAILY)["2026-01-04"] == 4 + 3
    assert events_per_day(root, DAILY)["2026-01-08"] == 8  # not in the range: unchanged
    assert {k: v for k, v in after.items() if k != "2026-01-04"} == {
        k: v for k, v in before.items() if k != "2026-01-04"
    }
    assert len(after["2026-01-04"]) == 1


def test_a_killed_backfill_resumes_only_the_remaining_partitions(
    made: Path, tmp_path: Path
) -> None:
    root = copy_of(made, tmp_path)
    process = subprocess.Popen(
        [AFLUENTE, "-p", str(root), "backfill", "silver.slow_daily", "--start", "2026-01-01",
         "--end", "2026-01-10", "--workers", "1", "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    backfill_id = _wait_for_a_success(root, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    first = recorded(root, backfill_id)
    committed = events_per_day(root, SLOW)  # the table opens at a consistent version
    assert all(n == int(day[-2:]) for day, n in committed.items())
    assert {r.partition for r in first if r.status == "success"} <= set(committed)
    assert len(committed) < 10

    payload = backfill(root, "--resume", backfill_id)
    assert payload["status"] == "success" and payload["resumed"] is True
    done_before = {r.partition: r.run_id for r in first if r.status == "success"}
    assert payload["partitions_already_done"] == len(done_before)
    assert payload["partitions_done"] == 10 - len(done_before)
    final = {r.partition: r for r in recorded(root, backfill_id)}
    assert all(r.status == "success" for r in final.values()) and len(final) == 10
    for partition, run_id in done_before.items():  # not redone
        assert final[partition].run_id == run_id
    assert events_per_day(root, SLOW) == {f"2026-01-{d:02d}": d for d in range(1, 11)}


def _wait_for_a_success(
    root: Path, process: subprocess.Popen[bytes]
) -> str:
    url = load_project(root).state_url
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the backfill finished before it could be killed"
        with BackfillStore.open(url) as store:
            unfinished = store.unfinished("bf", "silver.slow_daily", "2026-01-01", "2026-01-10")
            if unfinished is not None:
                parts = store.partitions(unfinished.backfill_id)
                if any(p.status == "success" for p in parts):
                    return unfinished.backfill_id
        time.sleep(0.05)
    raise AssertionError("no partition succeeded in 60 s")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["silver.daily", "--start", "2026-01-05", "--end", "2026-01-02"],
         "--start 2026-01-05 is after --end 2026-01-02"),
        (["silver.daily", "--start", "2026-13-01", "--end", "2026-01-02"],
         "--start '2026-13-01' is not a date"),
        (["bronze.events", "--start", "2026-01-01", "--end", "2026-01-02"],
         "selector `bronze.events` selects no time_range model"),
        (["silver.daily", "--start", "2026-01-01T05:00", "--end", "2026-01-02"],
         "has a time of day, but `silver.daily` is partitioned by day"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    backfilled: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    root = copy_of(backfilled, tmp_path)
    before = version(root, DAILY)
    assert before == 1  # two partitions: versions 0 and 1
    done = afluente_here(root, "backfill", *args)
    assert done.returncode != 0
    assert message in done.stderr and "hint:" in done.stderr
    assert version(root, DAILY) == before


def test_no_time_range_selection_names_the_models_that_exist(made: Path, tmp_path: Path) -> None:
    root = copy_of(made, tmp_path)
    done = afluente_here(root, "backfill", "bronze.*", "--start", "2026-01-01", "--end",
                    "2026-01-02")
    assert "this project has: silver.daily, silver.slow_daily" in done.stderr


def test_validate_names_a_time_column_the_output_lacks(made: Path, tmp_path: Path) -> None:
    root = copy_of(made, tmp_path)
    model = root / "models" / "silver" / "daily.sql"
    model.write_text(DAILY_SQL.replace("time_column: day", "time_column: event_day"))
    done = afluente_here(root, "validate")
    assert done.returncode != 0
    assert f"{model}:3:" in done.stderr
    assert "time_column `event_day` is not a column of the output of `silver.daily`" in (
        done.stderr
    )
    assert "day DATE, events BIGINT" in done.stderr
    again = afluente_here(root, "backfill", "silver.daily", "--start", "2026-01-01", "--end",
                     "2026-01-01")
    assert "time_column `event_day`" in again.stderr
    assert version(root, DAILY) is None
