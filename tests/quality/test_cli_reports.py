"""`afluente check`, `quality` (--json, --html) and `profile` through the real CLI; the HTML
pages opened in headless Chromium."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.browser import dump_dom
from tests.cli_inprocess import run_afluente

RULES = (
    "  - {name: cpf_ok, format: {column: cpf, as: cpf}, action: quarantine}\n"
    "  - {name: email_ok, format: {column: email, as: email}, action: warn}\n"
    "  - {name: id_unique, unique: [id, name], action: fail}"
)


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_afluente(["-p", str(root), *args])


@pytest.fixture
def built(make_project: Callable[..., Path]) -> Path:
    root = make_project(RULES)
    done = afluente(root, "run")
    assert done.returncode == 0, done.stderr
    return root


def test_quality_json_summarises_latest_results(built: Path) -> None:
    done = afluente(built, "--json", "quality")
    assert done.returncode == 0, done.stderr
    found = {r["rule"]: r for r in json.loads(done.stdout)["results"]}
    assert found["cpf_ok"]["rows_failed"] == 2
    assert found["email_ok"]["rows_failed"] == 1
    assert found["id_unique"]["passed"] is True


def test_check_evaluates_current_data_and_gates(built: Path) -> None:
    done = afluente(built, "--json", "check", "silver.people")
    assert done.returncode == 0, done.stderr
    found = {r["rule"]: r for r in json.loads(done.stdout)["results"]}
    assert found["cpf_ok"]["rows_failed"] == 0  # quarantined rows are no longer in the table
    assert found["id_unique"]["rows_failed"] == 0
    history = afluente(built, "--json", "query",
                       "select count(*) AS n from afluente.quality_results")
    assert json.loads(history.stdout)[0]["n"] == 6


def test_profile_suggests_expectations(built: Path) -> None:
    done = afluente(built, "--json", "profile", "silver.people", "--suggest")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    age = next(c for c in data["columns"] if c["column"] == "age")
    assert (age["min"], age["max"], age["null_pct"]) == ("25", "230", 0.0)
    assert sum(age["histogram"]) == 3
    names = {s["name"] for s in data["suggested"]}
    assert {"id_not_null", "age_range"} <= names


def _dom(page: Path, tmp_path: Path) -> str:
    return dump_dom(page.as_uri(), tmp_path)


def test_html_report_and_profile_open_in_chromium(built: Path, tmp_path: Path) -> None:
    report, page = tmp_path / "quality.html", tmp_path / "profile.html"
    assert afluente(built, "quality", "--html", str(report)).returncode == 0
    assert afluente(built, "profile", "silver.people", "--html", str(page)).returncode == 0
    dom = _dom(report, tmp_path)
    assert "<h2 id=\"silver.people\">" in dom
    for rule in ("cpf_ok", "email_ok", "id_unique"):
        assert f"<td>{rule}</td>" in dom
    assert "52998224724" in dom  # a failing sample
    profile = _dom(page, tmp_path)
    assert "Profile of silver.people" in profile and "<td>signed_up</td>" in profile
