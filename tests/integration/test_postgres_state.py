"""A whole run recorded in a real PostgreSQL state store (started by the fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.runtime import query_project, run_project
from afluente.state import StateStore


@pytest.mark.slow
def test_run_and_query_with_postgres_state(tmp_path: Path, postgres_url: str) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    (root / "afluente.yml").write_text(
        (root / "afluente.yml").read_text() + f"state: {postgres_url}\n"
    )
    project = load_project(root)
    assert project.state_url == postgres_url
    result = run_project(project)
    assert result.status == "success"
    assert not (root / ".afluente" / "state.db").exists()  # state lives in PostgreSQL
    with StateStore.open(postgres_url) as store:
        record = store.get_run(result.run_id)
    assert {m.model for m in record.models} >= {"silver.orders", "gold.revenue_by_state"}
    counts = query_project(
        project, "select status, count(*) as n from afluente.model_runs group by 1"
    )
    assert counts.to_pylist() == [{"status": "success", "n": 6}]
