"""The CI templates: valid against the public schemas (vendored by check-jsonschema), and
the GitHub workflow's `run:` steps run here, against the starter project with a changed
silver model, as a pull request's job would run them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import require_component

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.runtime import run_project

DEPLOY = Path(__file__).parents[2] / "deploy" / "ci"
BIN = Path(sys.executable).parent
#: the steps that need the network (PyPI, GitHub's API): here afluente is already installed
#: and no pull request exists to comment on
NETWORK = {"install", "comment"}
PULL_REQUEST = "7"


def check_jsonschema() -> str:
    found = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    if found is None:
        require_component("check-jsonschema", "pip install check-jsonschema (the dev extra)")
    return str(found)


@pytest.mark.parametrize(("template", "schema"), [
    ("github-actions.yml", "vendor.github-workflows"),
    ("gitlab-ci.yml", "vendor.gitlab-ci"),
])
def test_templates_match_the_public_schemas(template: str, schema: str) -> None:
    done = subprocess.run([check_jsonschema(), "--builtin-schema", schema,
                           str(DEPLOY / template)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_templates_install_this_version() -> None:
    github = yaml.safe_load((DEPLOY / "github-actions.yml").read_text())
    gitlab = yaml.safe_load((DEPLOY / "gitlab-ci.yml").read_text())
    assert github["jobs"]["check"]["env"]["AFLUENTE_VERSION"] == version("afluente")
    assert gitlab["afluente-ci"]["variables"]["AFLUENTE_VERSION"] == version("afluente")
    assert any("afluente ci --env" in line for line in gitlab["afluente-ci"]["script"])


def expand(text: str) -> str:
    """GitHub's `${{ }}` expressions, as a pull request's event fills them."""
    values = {"github.event.pull_request.number": PULL_REQUEST, "github.token": "unused"}
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: values[m.group(1)], text)


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """prod built from main; the branch adds a column to a silver model."""
    root = tmp_path / "shop"
    scaffold(root)
    assert run_project(load_project(root)).status == "success"
    model = root / "models/silver/orders.sql"
    model.write_text(model.read_text().replace(
        "CAST(ordered_at AS DATE) AS ordered_at",
        "CAST(ordered_at AS DATE) AS ordered_at,\n    CAST(order_id AS INTEGER) % 2 = 0 AS large"))
    return root


def test_github_workflow_steps_run_here(pull_request: Path, tmp_path: Path) -> None:
    workflow: dict[str, Any] = yaml.safe_load((DEPLOY / "github-actions.yml").read_text())
    job = workflow["jobs"]["check"]
    summary = tmp_path / "step-summary.md"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_STEP_SUMMARY": str(summary),
           **{k: expand(str(v)) for k, v in job["env"].items()}}
    ran, skipped = [], []
    for step in job["steps"]:
        if "run" not in step:
            assert step["uses"].startswith(("actions/checkout@", "actions/setup-python@"))
            continue
        if step.get("id") in NETWORK:
            skipped.append(step["id"])
            continue
        step_env = {**env, **{k: expand(str(v)) for k, v in step.get("env", {}).items()}}
        done = subprocess.run(["bash", "-e", "-c", expand(step["run"])], cwd=pull_request,
                              env=step_env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (step["name"], done.stdout, done.stderr)
        ran.append(step["name"])
    assert sorted(skipped) == sorted(NETWORK)
    assert ran == ["Check the pull request", "Job summary"]
    posted = summary.read_text()
    assert "| validate | ✅ passed |" in posted
    assert "| `silver.orders` | non-breaking | column(s) added: large |" in posted
    assert "### Data diff against prod" in posted
    assert re.search(r"\| `silver.orders` \| 4 \| 4 \| n/a \| n/a \| - \| \+large \|", posted)
    record = (pull_request / "warehouse/_environments" / f"pr-{PULL_REQUEST}" / "env.json")
    assert record.is_file()


def test_ci_stops_at_the_first_failed_step(tmp_path: Path) -> None:
    """A model that does not bind fails `validate`: nothing is planned or built."""
    from tests.cli_inprocess import run_afluente

    root = tmp_path / "shop"
    scaffold(root)
    model = root / "models/silver/orders.sql"
    model.write_text(model.read_text().replace("FROM bronze.orders", "FROM bronze.missing"))
    summary = tmp_path / "summary.md"
    done = run_afluente(["-p", str(root), "ci", "--env", "pr-1", "--summary", str(summary)])
    assert done.returncode == 1
    text = summary.read_text()
    assert "| validate | ❌ failed |" in text and "bronze.missing" in text
    assert "unit tests" not in text and "Data diff" not in text
    assert not (root / "warehouse" / "_environments").exists()
