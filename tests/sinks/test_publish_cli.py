"""`afluente publish` as a user runs it: JSON output, skip of published versions, exit code."""

from __future__ import annotations

import json
import subprocess

import pytest
from tests.cli_inprocess import run_afluente
from tests.sinks.conftest import MakeProject, fetch

from afluente.runtime import run_project


def afluente(*args: str) -> subprocess.CompletedProcess[str]:
    return run_afluente(args, env={"AFLUENTE_ENV": None})


def test_publish_command_json_then_up_to_date(
    make_project: MakeProject, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MART_PG_URL", postgres_url)
    project = make_project(
        {"gold/kpi.sql": "SELECT 1 AS id", "gold/other.sql": "SELECT 2 AS id"},
        "mart:\n  type: postgres\n  url: ${MART_PG_URL}\n  schema: bi\n"
        "  tables: [gold.kpi, gold.other]\n")
    assert run_project(project).status == "success"
    first = afluente("--json", "-p", str(project.root), "publish", "--select", "gold.kpi")
    second = afluente("--json", "-p", str(project.root), "publish", "--sink", "mart")
    bad = afluente("-p", str(project.root), "publish", "--sink", "marts")
    assert first.returncode == 0, first.stderr
    [table] = json.loads(first.stdout)["tables"]
    assert {k: table[k] for k in ("sink", "table", "target", "status", "version", "rows")} == {
        "sink": "mart", "table": "gold.kpi", "target": "bi.kpi", "status": "published",
        "version": 0, "rows": 1}
    statuses = [(t["table"], t["status"]) for t in json.loads(second.stdout)["tables"]]
    assert statuses == [("gold.kpi", "up_to_date"), ("gold.other", "published")]
    assert fetch(postgres_url, "SELECT id FROM bi.other") == [(2,)]
    assert bad.returncode == 2 and "unknown sink `marts`" in bad.stderr
    assert "did you mean `mart`?" in bad.stderr
