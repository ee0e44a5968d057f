"""An empty selector is refused by every command that takes one; nothing is built or run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afluente.cli.app import _register, app, exit_code
from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import SelectorError
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.state import StateStore
from afluente.storage import Warehouse

_register()

ORDERS = TableRef("silver", "orders")

COMMANDS = {
    "run": ["run", "--select", ""],
    "run (blank)": ["run", "-s", "   "],
    "plan": ["plan", "--select", ""],
    "test": ["test", "--select", ""],
    "check": ["check", ""],
    "health": ["health", ""],
    "publish": ["publish", "--select", ""],
    "maintain": ["maintain", ""],
    "backfill": ["backfill", "", "--start", "2026-01-01", "--end", "2026-01-02"],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("empty") / "shop"
    scaffold(root)
    assert run_project(load_project(root), "+silver.orders").status == "success"
    return root


@pytest.mark.parametrize("args", list(COMMANDS.values()), ids=list(COMMANDS))
def test_an_empty_selector_is_refused(built: Path, args: list[str]) -> None:
    project = load_project(built)
    warehouse = Warehouse(project.warehouse_uri)
    before = warehouse.version(ORDERS)
    with StateStore.open(project.state_url) as state:
        runs_before = [r.run_id for r in state.list_runs()]

    result = CliRunner().invoke(app, ["-p", str(built), *args])

    error = result.exception
    assert isinstance(error, SelectorError), result.output
    assert exit_code(error) == 2
    assert error.message.startswith("empty selector ") and "it selects nothing" in error.message
    assert "hint: leave the selector out to select every table" in error.render()
    assert warehouse.version(ORDERS) == before == 0
    assert not warehouse.exists(TableRef("gold", "revenue_by_state"))  # nothing else built
    with StateStore.open(project.state_url) as state:
        assert [r.run_id for r in state.list_runs()] == runs_before


def test_the_command_line_exits_2_and_builds_nothing(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)

    done = subprocess.run([sys.executable, "-m", "afluente", "-p", str(root), "run",
                           "--select", ""], capture_output=True, text=True, check=False)

    assert done.returncode == 2
    assert "empty selector '': it selects nothing" in done.stderr
    assert not (root / "warehouse" / "silver").exists()
