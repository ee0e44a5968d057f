"""Cancelling a run the server started and retrying what it left undone (the buttons of a
run's page): a model that waits while a flag file exists holds the run open, so the cancel
finds it running without any timing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.runtime.test_orchestration import crash_project

from afluente.config import load_project
from afluente.governance.identity import create_token
from afluente.state import StateStore
from afluente.state.access_state import AccessStore


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    from afluente.server.app import create_app
    from afluente.server.context import ServerContext

    root = crash_project(tmp_path / "orch")
    with AccessStore.open(load_project(root).state_url) as store:
        token = create_token(store, "service:ops", "platform", "tests")
    with TestClient(create_app(ServerContext.open(root)),
                    headers={"Authorization": f"Bearer {token}"}) as served:
        yield served, root


def wait_for(path: Path, client: TestClient, job_id: str) -> None:
    while not path.exists():
        job = client.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "running", job
        time.sleep(0.05)


def test_cancel_stops_the_run_and_retry_builds_what_it_left(
        client: tuple[TestClient, Path]) -> None:
    served, root = client
    flag = root / "models" / "silver" / "slow"
    flag.write_text("hold")
    started = served.post("/api/runs", json={})
    assert started.status_code == 202, started.text
    run_id, job_id = started.json()["run_id"], started.json()["job_id"]
    wait_for(root / "models" / "silver" / "started", served, job_id)
    early = served.post(f"/api/runs/{run_id}/retry")
    cancelled = served.post(f"/api/runs/{run_id}/cancel")
    run = served.get(f"/api/runs/{run_id}").json()
    again = served.post(f"/api/runs/{run_id}/cancel")
    assert early.status_code == 409 and early.json()["detail"].startswith(
        f"run {run_id} is still running (pid")
    assert cancelled.status_code == 200 and cancelled.json()["cancelled"] is True
    assert run["status"] == "failed" and "noticed by a cancel by service:ops" in run["error"]
    assert again.status_code == 409
    assert again.json()["detail"] == f"run {run_id} is not running (it ended failed)"
    flag.unlink()
    retried = served.post(f"/api/runs/{run_id}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.json()["kind"] == "retry"
    done = served.get(f"/api/jobs/{retried.json()['job_id']}", params={"wait": 300}).json()
    assert done["status"] == "succeeded", done
    second = served.get(f"/api/runs/{retried.json()['run_id']}").json()
    assert second["status"] == "success" and second["trigger"] == {"retry_of": run_id}
    built = {m["model"] for m in second["models"]}
    assert {"silver.slow", "gold.total"} <= built
    nothing = served.post(f"/api/runs/{second['run_id']}/retry")
    assert nothing.status_code == 202
    assert nothing.json() == {"retry_of": second["run_id"], "status": "nothing_to_retry",
                              "job_id": None, "run_id": None}


def test_a_run_started_elsewhere_is_not_cancelled_here(client: tuple[TestClient, Path]
                                                       ) -> None:
    served, root = client
    with StateStore.open(load_project(root).state_url) as store:
        store.start_run("20260101T000000-elsewhere", "orch", None, {})
        try:
            answer = served.post("/api/runs/20260101T000000-elsewhere/cancel")
            unknown = served.post("/api/runs/20990101T000000-zzzzzz/retry")
        finally:
            store.finish_run("20260101T000000-elsewhere", "failed", "test")
    assert answer.status_code == 409
    assert answer.json()["detail"] == "run 20260101T000000-elsewhere was not started by this " \
                                      "server"
    assert "Ctrl-C" in answer.json()["hint"]
    assert unknown.status_code == 404 and unknown.json()["detail"].startswith("no run with id")
