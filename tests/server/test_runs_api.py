"""Runs started through the API (the CLI's command in a child process), their errors, the
lock conflict, and the live event stream for runs started by the API or by the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

import httpx
from tests.cli_inprocess import run_afluente
from tests.server.conftest import Served

from afluente.config import load_project
from afluente.state import StateStore
from afluente.state.locks import acquire_locks, release_locks

TABLE = "gold.revenue_by_state_month"


def sse(served: Served, until_run: str | None = None, connected: threading.Event | None = None,
        **params: Any) -> list[dict[str, Any]]:
    """The events of the stream, up to the first `run_finished` (of `until_run`, when
    given, or of the run the stream follows); `connected` is set once the stream is open."""
    got: list[dict[str, Any]] = []
    wanted = until_run or params.get("run_id")
    with served.client() as client, client.stream("GET", "/api/events/stream",
                                                   params=params) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        if connected is not None:
            connected.set()
        for line in answer.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[len("data: "):])
            got.append(event)
            if event["type"] == "run_finished" and wanted in (None, event["run_id"]):
                break
    return got


def cli(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("AFLUENTE_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "afluente", "--json", "-p", str(served.root),
                           *args], capture_output=True, text=True, env=env, timeout=600)


def test_a_bad_selector_gets_the_cli_error_and_hint(served: Served) -> None:
    with served.client() as client:
        answer = client.post("/api/runs", json={"select": "gold.revenue_by_stat_month"})
    done = run_afluente(["--json", "-p", str(served.root), "run", "--select",
                         "gold.revenue_by_stat_month"], env={"AFLUENTE_TOKEN": None})
    said = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    detail, _, hint = said.partition("\n  hint: ")
    assert answer.status_code == 400
    assert answer.json()["detail"] == detail and answer.json()["hint"] == hint
    assert "did you mean" in hint


def test_a_run_without_modify_is_refused_with_the_grant(served: Served) -> None:
    with served.client("analyst") as client:
        answer = client.post("/api/runs", json={"select": TABLE})
    assert answer.status_code == 403
    assert answer.json()["detail"] == f"service:bi has no MODIFY grant on {TABLE}"


def test_a_run_started_through_the_api_streams_its_events(served: Served) -> None:
    with served.client() as client:
        started = client.post("/api/runs", json={"select": TABLE, "full_refresh": True})
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "run" and job["principal"] == "service:ops" and job["run_id"]
    events = sse(served, run_id=job["run_id"])
    types = [e["type"] for e in events]
    assert types[0] == "run_started" and types[-1] == "run_finished"
    assert {e["run_id"] for e in events} == {job["run_id"]}
    assert any(e["model"] == TABLE for e in events)
    with served.client() as client:
        run = client.get(f"/api/runs/{job['run_id']}").json()
        history = client.get(f"/api/tables/{TABLE}/history").json()
    assert run["status"] == "success" and run["selector"] == TABLE
    assert [m["model"] for m in run["models"]] == [TABLE]
    assert history[0]["run_id"] == job["run_id"]


def test_a_run_started_by_the_cli_shows_up_live(served: Served) -> None:
    """A stream opened before `afluente run` starts in a terminal delivers that run."""
    events: list[dict[str, Any]] = []
    connected = threading.Event()
    listening = threading.Thread(target=lambda: events.extend(sse(served,
                                                                  connected=connected)))
    listening.start()
    assert connected.wait(60)
    done = cli(served, "run", "--select", TABLE)
    assert done.returncode == 0, done.stderr
    listening.join(timeout=120)
    assert not listening.is_alive()
    run_id = json.loads(done.stdout)["run_id"]
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "run_finished"
    assert {e["run_id"] for e in events} == {run_id}
    assert events[-1]["payload"]["status"] == "success"


def test_a_table_locked_by_a_live_run_is_409_naming_it(served: Served) -> None:
    project = load_project(served.root)
    store = StateStore.open(project.state_url)
    try:
        store.start_run("20260101T000000-holder", project.config.name, TABLE, {})
        acquire_locks(store, [f"table:{TABLE}"], "20260101T000000-holder", wait=timedelta(0))
        with served.client() as client:
            answer = client.post("/api/runs", json={"select": TABLE})
    finally:
        release_locks(store, "20260101T000000-holder")
        store.finish_run("20260101T000000-holder", "failed", "test holder")
        store.close()
    assert answer.status_code == 409
    assert answer.json()["detail"].startswith(
        f"`table:{TABLE}` is locked by `20260101T000000-holder` (pid {os.getpid()}")


def test_a_backfill_job_ends_with_the_cli_error(served: Served) -> None:
    """The demo has no time_range model: the backfill's child exits with the CLI's error,
    which the job carries."""
    with served.client() as client:
        started = client.post("/api/backfills", json={"select": TABLE, "start": "2023-01-01",
                                                       "end": "2023-01-02"})
        assert started.status_code == 202, started.text
        job = client.get(f"/api/jobs/{started.json()['job_id']}", params={"wait": 300}).json()
    assert job["status"] == "failed" and job["exit_code"] == 2
    assert job["command"] == ["afluente", "backfill", TABLE, "--start", "2023-01-01", "--end",
                              "2023-01-02"]
    assert job["error"]["detail"] == f"selector `{TABLE}` selects no time_range model, and " \
                                     "the project has none"
    assert "kind: time_range" in job["error"]["hint"]


def test_jobs_list_what_the_api_started(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=60,
                      headers={"Authorization": f"Bearer {served.tokens['admin']}"}) as client:
        jobs = client.get("/api/jobs").json()
        missing = client.get("/api/jobs/nope")
    assert all(j["kind"] in ("run", "backfill", "retry") for j in jobs)
    assert missing.status_code == 404
