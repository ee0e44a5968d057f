"""The REST API reads a promoted table through prod's pointer (and back after a rollback):
a real uvicorn on 127.0.0.1 over a starter project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.server.live import serving

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.governance.identity import create_token
from afluente.runtime import run_project
from afluente.runtime.env_promote import promote, rollback
from afluente.runtime.environments import plan_environment, run_environment
from afluente.state.access_state import AccessStore


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Path, httpx.Client]]:
    root = tmp_path / "shop"
    scaffold(root)
    project = load_project(root)
    assert run_project(project).status == "success"
    with AccessStore.open(project.state_url) as store:
        store.grant("platform", "ADMIN", "project", "tests")
        token = create_token(store, "service:ops", "platform", "tests")
    with serving(root) as url, httpx.Client(
            base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
        yield root, client


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
