"""Staged files of a run killed with kill -9 are removed by the next run, never those of a
live concurrent run; `afluente runs` shows a dead run as failed, not `running`."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tests.runtime.test_orchestration import AFLUENTE, afluente, events, new_project, runs

from afluente.config import load_project
from afluente.model import TableRef
from afluente.state import StateStore
from afluente.storage import Warehouse

ROWS = 400_000  # enough that DuckDB writes its Parquet into _staging for a second or two
EVENTS = TableRef("bronze", "events")


def staged_files(root: Path) -> list[Path]:
    staging = root / "warehouse" / "_staging"
    found = staging.rglob("*.parquet") if staging.exists() else []
    return [p for p in found if p.exists() and p.stat().st_size > 0]


def kill_while_staging(root: Path) -> tuple[subprocess.Popen[str], list[Path]]:
    """Start `afluente run` and kill -9 it while its Parquet files sit in _staging."""
    process = subprocess.Popen([*AFLUENTE, "-p", str(root), "run"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not staged_files(root):
        assert process.poll() is None, ("the run ended before it was caught staging",
                                        process.communicate())
        assert time.monotonic() < deadline, "the run never staged anything"
        time.sleep(0.01)
    process.kill()
    process.wait()
    left = staged_files(root)  # what the killed process actually left behind
    assert left
    return process, left


def stage_for_a_live_run(root: Path, run_id: str) -> Path:
    """This test process is the live run: recorded `running` with its own pid, and
    staging a file where runs stage theirs."""
    project = load_project(root)
    with StateStore.open(project.state_url) as state:
        state.start_run(run_id, project.config.name, "bronze.events", {})
    folder = Warehouse(project.warehouse_uri).staging_dir(EVENTS, run_id)
    pq.write_table(pa.table({"id": [1]}), folder / "part-0.parquet")
    return folder / "part-0.parquet"


def test_the_next_run_removes_a_killed_runs_staging_but_not_a_live_ones(
    tmp_path: Path,
) -> None:
    root = new_project(tmp_path / "p", rows=ROWS)
    killed, orphans = kill_while_staging(root)
    (dead,) = runs(root)
    dead_id = dead["run_id"]
    assert all(dead_id in str(p) for p in orphans)

    listed = json.loads(afluente(root, "--json", "runs").stdout)
    assert [(r["run_id"], r["status"]) for r in listed] == [(dead_id, "failed")]
    assert f"pid {killed.pid} on " in listed[0]["error"]  # not `running`: its process is gone
    assert "died without finishing; noticed by `afluente runs`" in listed[0]["error"]

    kept = stage_for_a_live_run(root, "live-run")
    done = afluente(root, "--json", "run")

    assert done.returncode == 0, done.stderr
    assert not any(p.exists() for p in orphans)
    assert not (root / "warehouse" / "_staging" / dead_id).exists()
    assert kept.exists() and pq.read_table(kept).num_rows == 1  # the live run's, untouched
    (cleaned,) = events(root, "staging_cleaned")
    payload = json.loads(cleaned["payload"])
    assert payload["runs"] == [dead_id]
    assert payload["files"] >= len(orphans) and payload["bytes"] > 0
    new_id = json.loads(done.stdout)["run_id"]
    assert cleaned["run_id"] == new_id
    assert not (root / "warehouse" / "_staging" / new_id).exists()  # each run tidies its own
    table = Warehouse(load_project(root).warehouse_uri).dataset(EVENTS).to_table()
    assert table.num_rows == ROWS
