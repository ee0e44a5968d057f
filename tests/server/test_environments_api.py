"""The REST API reads a promoted table through prod's pointer (and back after a rollback):
a real uvicorn on 127.0.0.1 over a starter project."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.governance.identity import create_token
from afluente.runtime import run_project
from afluente.runtime.env_promote import promote, rollback
from afluente.runtime.environments import plan_environment, run_environment
from afluente.state.access_state import AccessStore


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Path, httpx.Client]]:
    import uvicorn

    from afluente.server.app import create_app
    from afluente.server.context import ServerContext

    root = tmp_path / "shop"
    scaffold(root)
    project = load_project(root)
    assert run_project(project).status == "success"
    with AccessStore.open(project.state_url) as store:
        store.grant("platform", "ADMIN", "project", "tests")
        token = create_token(store, "service:ops", "platform", "tests")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(ServerContext.open(root)),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("uvicorn did not start")
        threading.Event().wait(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            yield root, client
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def columns(client: httpx.Client) -> list[str]:
    answer = client.get("/api/tables/silver.customers/rows", params={"limit": 5})
    assert answer.status_code == 200, answer.text
    return sorted(answer.json()["rows"][0])


def test_rows_follow_prod_pointer(api: tuple[Path, httpx.Client]) -> None:
    root, client = api
    assert "name_length" not in columns(client)
    model = root / "models/silver/customers.sql"
    model.write_text(model.read_text().replace(
        "upper(uf) AS uf", "upper(uf) AS uf,\n    length(trim(name)) AS name_length"))
    project = load_project(root)
    plan_environment(project, "dev")
    assert run_environment(project, "dev").status == "success"
    assert "name_length" not in columns(client)  # built in dev: prod unchanged
    promote(project, "dev")
    assert "name_length" in columns(client)
    rollback(project)
    assert "name_length" not in columns(client)
