"""`--json` and `--debug` work after the command as well as before it, as the README says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.test_errors_cli import afluente

from afluente.cli.app import flags_first
from afluente.cli.scaffold import scaffold


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path.resolve() / "shop"
    scaffold(root)
    return root


def test_json_after_the_command(shop: Path) -> None:
    result = afluente("-p", str(shop), "quality", "--json")

    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {"results": [], "failing": 0, "not_evaluated": []}


def test_debug_and_json_after_the_command_on_an_error(shop: Path) -> None:
    (shop / "models/gold/x.sql").write_text("SELECT *\nFROM   silver.ordres AS o\n")

    result = afluente("-p", str(shop), "validate", "--debug", "--json")

    assert result.returncode == 2
    assert result.stdout == ""
    payload = json.loads(result.stderr)
    assert payload["error"].endswith("`gold.x` reads unknown table `silver.ordres`\n"
                                     "  hint: did you mean `silver.orders`?")
    assert payload["traceback"].startswith("Traceback (most recent call last)")


def test_flags_after_a_double_dash_are_left_to_the_command() -> None:
    assert flags_first(["-p", "x", "query", "--json", "--", "--debug"]) == [
        "--json", "-p", "x", "query", "--", "--debug"
    ]
