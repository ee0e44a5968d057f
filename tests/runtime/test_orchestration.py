"""The executor as an orchestrator: parallel workers in dependency order, retries of
transient failures only, per-model timeouts, `afluente retry`, and real `afluente` processes
that crash (kill -9) or run at the same time."""

from __future__ import annotations

import itertools
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.state import StateStore
from afluente.storage import Warehouse

AFLUENTE = [sys.executable, "-m", "afluente"]

BASE = """\
name: orch
run:
  workers: 4
  retries: 2
  retry_delay: 0.05s
  retry_max_delay: 0.2s
sources:
  events:
    type: files
    path: landing/*.csv
    columns: {id: BIGINT, v: BIGINT}
"""

# A Python model that sleeps (releasing the GIL like real I/O or engine work would).
SLEEPER = """\
import time

import afluente


@afluente.table(inputs=["bronze.events"])
def {name}(events):
    time.sleep({seconds})
    return events.project("id, v")
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def new_project(root: Path, config: str = BASE, rows: int = 50) -> Path:
    write(root / "afluente.yml", config)
    write(root / "landing" / "a.csv", "id,v\n" + "".join(f"{i},{i * 10}\n" for i in range(rows)))
    return root


def rows_of(root: Path, ref: str) -> list[tuple[object, ...]]:
    layer, name = ref.split(".")
    table = Warehouse(load_project(root).warehouse_uri).dataset(TableRef(layer, name)).to_table()
    columns = [c for c in ("id", "v") if c in table.column_names]
    return sorted(zip(*(table.column(c).to_pylist() for c in columns), strict=True))


def version_of(root: Path, ref: str) -> int | None:
    layer, name = ref.split(".")
    return Warehouse(load_project(root).warehouse_uri).version(TableRef(layer, name))


def model_runs(root: Path, run_id: str) -> dict[str, sqlite3.Row]:
    with sqlite3.connect(root / ".afluente" / "state.db") as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM model_runs WHERE run_id = ?", (run_id,)).fetchall()
    return {r["model"]: r for r in rows}


def runs(root: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(root / ".afluente" / "state.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM runs ORDER BY started_at").fetchall()


def events(root: Path, kind: str) -> list[sqlite3.Row]:
    with sqlite3.connect(root / ".afluente" / "state.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM events WHERE type = ? ORDER BY id", (kind,)).fetchall()


def afluente(root: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AFLUENTE, "-p", str(root), *args], capture_output=True, text=True,
                          timeout=timeout)


# -- parallel workers --------------------------------------------------------------------------


def test_independent_models_run_at_the_same_time_and_dependents_wait(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p")
    for i in range(4):
        write(root / "models" / "silver" / f"branch{i}.py",
              SLEEPER.format(name=f"branch{i}", seconds=0.6))
    write(root / "models" / "gold" / "joined.sql",
          "SELECT b0.id, b0.v + b1.v + b2.v + b3.v AS v FROM silver.branch0 b0 "
          "JOIN silver.branch1 b1 USING (id) JOIN silver.branch2 b2 USING (id) "
          "JOIN silver.branch3 b3 USING (id)")

    result = run_project(load_project(root), workers=4)

    assert result.status == "success"
    assert rows_of(root, "gold.joined") == [(i, i * 40) for i in range(50)]
    recorded = model_runs(root, result.run_id)
    branches = [recorded[f"silver.branch{i}"] for i in range(4)]
    # all four branches were running at one moment: each started before any finished
    assert max(b["started_at"] for b in branches) < min(b["finished_at"] for b in branches)
    # the join started only after every branch had committed
    assert recorded["gold.joined"]["started_at"] >= max(b["finished_at"] for b in branches)
    assert recorded["bronze.events"]["finished_at"] <= min(b["started_at"] for b in branches)


def test_one_worker_builds_in_plan_order_one_at_a_time(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p")
    for i in range(3):
        write(root / "models" / "silver" / f"branch{i}.py",
              SLEEPER.format(name=f"branch{i}", seconds=0.1))

    result = run_project(load_project(root), workers=1)

    recorded = sorted(model_runs(root, result.run_id).values(), key=lambda r: r["started_at"])
    for earlier, later in itertools.pairwise(recorded):
        assert earlier["finished_at"] <= later["started_at"]
    assert [str(m.ref) for m in result.models] == [r["model"] for r in recorded]


# -- retries -----------------------------------------------------------------------------------

FLAKY = """\
from pathlib import Path

import afluente


@afluente.table(inputs=["bronze.events"])
def flaky(events):
    tries = Path(__file__).with_name("tries.txt")
    count = int(tries.read_text()) + 1 if tries.exists() else 1
    tries.write_text(str(count))
    if count <= {failures}:
        raise {error}("attempt " + str(count) + " failed")
    return events.project("id, v")
"""


def test_a_transient_failure_is_retried_in_a_real_run(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p")
    write(root / "models" / "silver" / "flaky.py",
          FLAKY.format(failures=2, error="ConnectionResetError"))

    done = afluente(root, "--json", "run")

    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    (flaky,) = [m for m in payload["models"] if m["table"] == "silver.flaky"]
    assert flaky["status"] == "success"
    assert flaky["attempts"] == 3
    assert (root / "models" / "silver" / "tries.txt").read_text() == "3"
    assert model_runs(root, payload["run_id"])["silver.flaky"]["attempts"] == 3
    retried = events(root, "model_retry")
    assert [json.loads(e["payload"])["attempt"] for e in retried] == [1, 2]
    assert "ConnectionResetError: attempt 1 failed" in json.loads(retried[0]["payload"])["error"]
    assert rows_of(root, "silver.flaky") == [(i, i * 10) for i in range(50)]


def test_transient_failures_stop_after_the_configured_retries(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p")
    write(root / "models" / "silver" / "flaky.py",
          FLAKY.format(failures=99, error="TimeoutError"))

    result = run_project(load_project(root), retries=1)

    (failed,) = result.failed
    assert failed.attempts == 2
    assert "TimeoutError: attempt 2 failed" in failed.reason
    assert version_of(root, "silver.flaky") is None


def test_a_terminal_failure_is_not_retried(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p")
    write(root / "models" / "silver" / "flaky.py", FLAKY.format(failures=99, error="ValueError"))
    write(root / "models" / "silver" / "bad.sql", "SELECT id, no_such_column FROM bronze.events")

    result = run_project(load_project(root))

    assert {str(m.ref): m.attempts for m in result.failed} == {"silver.flaky": 1, "silver.bad": 1}
    assert (root / "models" / "silver" / "tries.txt").read_text() == "1"
    assert events(root, "model_retry") == []


# -- timeouts ----------------------------------------------------------------------------------


def test_a_model_past_its_timeout_is_interrupted_and_its_downstream_skipped(
    tmp_path: Path,
) -> None:
    root = new_project(tmp_path / "p")
    write(root / "models" / "silver" / "slow.sql",
          "/* @config\ntimeout: 1s\n*/\n"
          "SELECT count(*) AS id, sum(hash(r.range)) AS v FROM range(100000000000) r")
    write(root / "models" / "gold" / "after_slow.sql", "SELECT * FROM silver.slow")
    write(root / "models" / "silver" / "quick.sql", "SELECT id, v FROM bronze.events")

    result = run_project(load_project(root))

    status = {str(m.ref): m for m in result.models}
    assert status["silver.slow"].status == "failed"
    assert "ran longer than its timeout of 0:00:01" in status["silver.slow"].reason
    assert "slow.sql" in status["silver.slow"].reason
    assert status["silver.slow"].attempts == 1  # a timeout is not retried
    assert status["gold.after_slow"].status == "skipped"
    assert status["gold.after_slow"].reason == "upstream `silver.slow` failed"
    assert status["silver.quick"].status == "success"
    assert version_of(root, "silver.slow") is None


# -- afluente retry ----------------------------------------------------------------------------


def test_retry_builds_only_what_failed_or_was_skipped(tmp_path: Path) -> None:
    root = new_project(tmp_path / "p")
    write(root / "models" / "silver" / "good.sql", "SELECT id, v FROM bronze.events")
    write(root / "models" / "silver" / "broken.sql",
          "SELECT id, no_such_column AS v FROM bronze.events")
    write(root / "models" / "gold" / "after_broken.sql", "SELECT id, v FROM silver.broken")
    failed = afluente(root, "--json", "run")
    assert failed.returncode == 1
    first = json.loads(failed.stdout)
    good_version = version_of(root, "silver.good")

    write(root / "models" / "silver" / "broken.sql", "SELECT id, v * 2 AS v FROM bronze.events")
    retried = afluente(root, "--json", "retry")

    assert retried.returncode == 0, retried.stderr
    second = json.loads(retried.stdout)
    assert {m["table"]: m["status"] for m in second["models"]} == {
        "silver.broken": "success", "gold.after_broken": "success",
    }
    assert rows_of(root, "gold.after_broken") == [(i, i * 20) for i in range(50)]
    assert version_of(root, "silver.good") == good_version
    args = json.loads(runs(root)[-1]["args"])
    assert args["trigger"] == {"retry_of": first["run_id"]}
    nothing = afluente(root, "retry", second["run_id"])
    assert "nothing to retry" in nothing.stdout


# -- crashes (kill -9) -------------------------------------------------------------------------

CRASH_PROJECT = BASE.replace("workers: 4", "workers: 2")

# the slow model of the crash tests: long while the file `slow` exists next to it
SLOW_WHILE_FLAGGED = """\
import time
from pathlib import Path

import afluente


@afluente.table(inputs=["bronze.events"])
def slow(events):
    flag = Path(__file__).with_name("slow")
    Path(__file__).with_name("started").write_text("yes")
    while flag.exists():
        time.sleep(0.05)
    return events.project("id, v")
"""


def crash_project(root: Path) -> Path:
    new_project(root, CRASH_PROJECT)
    write(root / "models" / "silver" / "copy.sql", "SELECT id, v FROM bronze.events")
    write(root / "models" / "silver" / "slow.py", SLOW_WHILE_FLAGGED)
    write(root / "models" / "gold" / "total.sql",
          "SELECT s.id, s.v + c.v AS v FROM silver.slow s JOIN silver.copy c USING (id)")
    write(root / "models" / "gold" / "tally.sql",
          "/* @config\nkind: append\n*/\nSELECT id, v FROM silver.copy")
    return root


def wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_kill_9_mid_run_leaves_consistent_tables_and_the_next_run_recovers(
    tmp_path: Path,
) -> None:
    root = crash_project(tmp_path / "p")
    write(root / "models" / "silver" / "slow", "")
    process = subprocess.Popen([*AFLUENTE, "-p", str(root), "run"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    wait_for(root / "models" / "silver" / "started", process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    (dead,) = runs(root)
    assert dead["status"] == "running"  # nobody has noticed yet
    assert version_of(root, "silver.slow") is None
    assert version_of(root, "gold.total") is None
    bronze = rows_of(root, "bronze.events")
    assert bronze in ([], [(i, i * 10) for i in range(50)])  # all or nothing

    (root / "models" / "silver" / "slow").unlink()
    done = afluente(root, "--json", "run")

    assert done.returncode == 0, done.stderr
    previous, latest = runs(root)
    assert previous["status"] == "failed"
    assert f"pid {dead['pid']}" in previous["error"] and "died" in previous["error"]
    assert model_runs(root, dead["run_id"])["silver.slow"]["status"] == "failed"
    assert json.loads(events(root, "dead_run_detected")[0]["payload"]) == {
        "dead_run": dead["run_id"]
    }
    assert latest["status"] == "success"
    expected = [(i, i * 10) for i in range(50)]
    assert rows_of(root, "bronze.events") == expected
    assert rows_of(root, "gold.tally") == expected  # appended exactly once
    assert rows_of(root, "gold.total") == [(i, i * 20) for i in range(50)]


def test_kill_9_at_random_moments_never_loses_or_duplicates_rows(tmp_path: Path) -> None:
    root = crash_project(tmp_path / "p")
    chance = random.Random(7)
    for batch in range(3):
        rows = range(batch * 100, batch * 100 + 100)
        write(root / "landing" / f"batch{batch}.csv",
              "id,v\n" + "".join(f"{i},{i * 10}\n" for i in rows))
        process = subprocess.Popen([*AFLUENTE, "-p", str(root), "run"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(chance.uniform(0.8, 3.0))  # start-up, ingest, commits: anywhere
        process.send_signal(signal.SIGKILL)
        process.wait()
    done = afluente(root, "run")
    assert done.returncode == 0, done.stderr
    expected = [(i, i * 10) for i in range(50)] + [(i, i * 10) for i in range(300)]
    assert rows_of(root, "bronze.events") == sorted(expected)
    assert rows_of(root, "gold.tally") == sorted(expected)
    assert all(r["status"] != "running" for r in runs(root))


# -- two runs at once --------------------------------------------------------------------------


def test_two_concurrent_runs_of_the_same_tables_queue_on_the_lock(tmp_path: Path) -> None:
    root = crash_project(tmp_path / "p")
    write(root / "models" / "silver" / "slow", "")
    first = subprocess.Popen([*AFLUENTE, "-p", str(root), "--json", "run"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(root / "models" / "silver" / "started", first)
    second = subprocess.Popen([*AFLUENTE, "-p", str(root), "--json", "run"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not events(root, "lock_wait"):
        assert time.monotonic() < deadline, "the second run never waited"
        time.sleep(0.1)
    (root / "models" / "silver" / "slow").unlink()
    out1, err1 = first.communicate(timeout=180)
    out2, err2 = second.communicate(timeout=180)

    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    built_first = {m["table"]: m["status"] for m in json.loads(out1)["models"]}
    built_second = {m["table"]: m["status"] for m in json.loads(out2)["models"]}
    assert built_first["gold.tally"] == "success"
    assert built_second["bronze.events"] == "up_to_date"  # planned after the first committed
    assert built_second["gold.tally"] == "up_to_date"
    expected = [(i, i * 10) for i in range(50)]
    assert rows_of(root, "bronze.events") == expected
    assert rows_of(root, "gold.tally") == expected
    (wait,) = events(root, "lock_wait")
    assert json.loads(wait["payload"])["holder"] == json.loads(out1)["run_id"]


def test_a_run_that_cannot_get_the_lock_in_time_fails_clearly(tmp_path: Path) -> None:
    root = crash_project(tmp_path / "p")
    write(root / "afluente.yml", CRASH_PROJECT.replace("run:\n", "run:\n  lock_timeout: 0s\n"))
    write(root / "models" / "silver" / "slow", "")
    first = subprocess.Popen([*AFLUENTE, "-p", str(root), "--json", "run"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(root / "models" / "silver" / "started", first)
    bronze_version = version_of(root, "bronze.events")

    second = afluente(root, "run", "--select", "bronze.events silver.copy")

    (root / "models" / "silver" / "slow").unlink()
    assert first.wait(timeout=180) == 0
    assert second.returncode != 0
    assert "`table:bronze.events` is locked by " in second.stderr
    assert f"pid {first.pid} on " in second.stderr
    assert "hint: wait for that run to finish, or raise `run: lock_timeout:`" in second.stderr
    assert runs(root)[-1]["status"] in ("success", "failed")
    blocked = [r for r in runs(root) if r["selector"] == "bronze.events silver.copy"]
    assert blocked[0]["status"] == "failed"
    assert "locked by" in blocked[0]["error"]
    assert version_of(root, "bronze.events") == bronze_version  # the blocked run wrote nothing


def test_locks_are_released_after_every_run(tmp_path: Path) -> None:
    root = crash_project(tmp_path / "p")
    result = run_project(load_project(root))
    assert result.status == "success"
    from afluente.state.locks import held_locks

    with StateStore.open(load_project(root).state_url) as state:
        assert held_locks(state) == []
