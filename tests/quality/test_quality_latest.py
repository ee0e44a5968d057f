"""`afluente quality` shows the latest evaluation of the rules defined now: a removed rule's
old failure, or a result of a rule's earlier definition, is not shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.quality.conftest import PEOPLE, model_text
from tests.quality.test_cli_reports import afluente

from afluente.config import load_project
from afluente.runtime import run_project

CPF = "  - {name: cpf_ok, format: {column: cpf, as: cpf}, action: %s}"
EMAIL = "  - {name: email_ok, format: {column: email, as: email}, action: warn}"


def redefine(root: Path, expectations: str) -> None:
    (root / "models" / "silver" / "people.sql").write_text(model_text(expectations, PEOPLE))


def quality(root: Path) -> dict[str, object]:
    done = afluente(root, "--json", "quality")
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_quality_shows_only_the_current_definition(make_project: Callable[..., Path]) -> None:
    root = make_project(CPF % "warn" + "\n" + EMAIL)
    assert run_project(load_project(root)).status == "success"
    # email_ok is removed (its failure must not linger); cpf_ok now quarantines
    redefine(root, CPF % "quarantine")
    before = quality(root)
    assert before["results"] == []
    assert before["not_evaluated"] == [{"model": "silver.people", "rule": "cpf_ok"}]
    assert run_project(load_project(root)).status == "success"
    after = quality(root)
    assert [(r["rule"], r["action"], r["rows_failed"]) for r in after["results"]] == [
        ("cpf_ok", "quarantine", 2)]
    assert after["failing"] == 1 and after["not_evaluated"] == []
