"""How the `afluente` command reports errors: one line, file:line, a hint, exit code 2.

These run the installed console script in a subprocess, as a user would.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console as RichTerminal

from afluente.cli.app import exit_code
from afluente.cli.console import Console, JsonConsole
from afluente.cli.scaffold import scaffold
from afluente.errors import (
    AfluenteError,
    ConfigError,
    Location,
    ModelError,
    SelectorError,
    StorageError,
    TransientConnectorError,
)

BIN = Path(sys.executable).parent
AFLUENTE = str(BIN / "afluente")
HEAVY = ("duckdb", "pyarrow", "deltalake", "polars", "pyspark")


def afluente(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "AFLUENTE_ENV")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [AFLUENTE, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path.resolve() / "shop"
    scaffold(root)
    return root


@pytest.fixture
def broken_shop(shop: Path) -> Path:
    """The starter project plus a gold model that reads `silver.ordres` (line 2)."""
    (shop / "models/gold/x.sql").write_text("SELECT *\nFROM   silver.ordres AS o\n")
    return shop


def test_validate_unknown_table_exits_2_with_file_line_and_hint(broken_shop: Path) -> None:
    result = afluente("-p", str(broken_shop), "validate")

    file = broken_shop / "models/gold/x.sql"
    assert result.returncode == 2
    assert result.stdout == ""
    first, hint = result.stderr.splitlines()
    assert first.startswith(f"error: {file}:2:")
    assert first.endswith(": `gold.x` reads unknown table `silver.ordres`")
    assert hint == "  hint: did you mean `silver.orders`?"


def test_validate_json_error_goes_to_stderr_as_json(broken_shop: Path) -> None:
    result = afluente("--json", "-p", str(broken_shop), "validate")

    assert result.returncode == 2
    assert result.stdout == ""
    payload = json.loads(result.stderr)
    assert list(payload) == ["error"]
    assert payload["error"].startswith(f"{broken_shop / 'models/gold/x.sql'}:2:")
    assert payload["error"].endswith(
        "`gold.x` reads unknown table `silver.ordres`\n  hint: did you mean `silver.orders`?"
    )


def test_validate_a_valid_project(shop: Path) -> None:
    result = afluente("--json", "validate", cwd=shop / "models")

    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "valid": True,
        "project": "shop",
        "tables": 6,
        "layers": {"bronze": 2, "silver": 2, "gold": 2},
        "bound": 3,  # over the landing files' headers: nothing was ingested yet
        "not_bound": {},
    }


def test_config_typo_exits_2_with_did_you_mean(shop: Path) -> None:
    (shop / "afluente.yml").write_text("name: shop\nengine:\n  treads: 4\n")

    result = afluente("-p", str(shop), "validate")

    assert result.returncode == 2
    assert result.stderr == (
        f"error: {shop / 'afluente.yml'}:3: unknown key `engine.treads`\n"
        "  hint: did you mean `threads`? valid keys here: memory_limit, threads, type\n"
    )


def test_unknown_env_exits_2_listing_declared_environments(shop: Path) -> None:
    with (shop / "afluente.yml").open("a") as yml:
        yml.write("environments:\n  dev: {}\n  prod: {warehouse: s3://lake/prod}\n")

    result = afluente("-p", str(shop), "--env", "staging", "validate")

    assert result.returncode == 2
    assert result.stderr == (
        f"error: {shop / 'afluente.yml'}:16: unknown environment `staging`\n"
        "  hint: declared environments: dev, prod\n"
    )


def test_outside_a_project_the_hint_mentions_afluente_init(tmp_path: Path) -> None:
    result = afluente("validate", cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr == (
        f"error: no afluente.yml found in {tmp_path.resolve()} or any parent folder\n"
        "  hint: run inside a project, pass --project DIR, or create one with "
        "`afluente init DIR`\n"
    )


def test_debug_adds_the_traceback(broken_shop: Path) -> None:
    result = afluente("--debug", "-p", str(broken_shop), "validate")

    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "afluente.errors.ModelError" in result.stderr
    assert f"\nerror: {broken_shop / 'models/gold/x.sql'}:2:" in result.stderr
    assert "\n  hint: did you mean `silver.orders`?\n" in result.stderr


def test_debug_prints_the_error_once(broken_shop: Path) -> None:
    result = afluente("--debug", "-p", str(broken_shop), "validate")

    assert result.returncode == 2
    assert result.stderr.count("reads unknown table `silver.ordres`") == 1
    assert result.stderr.count("did you mean `silver.orders`?") == 1
    assert result.stderr.endswith("  hint: did you mean `silver.orders`?\n")


# -- start-up stays light -------------------------------------------------------------------


def test_help_does_not_import_heavy_libraries() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", AFLUENTE, "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert result.returncode == 0
    assert "validate" in result.stdout
    assert "afluente.cli.app" in imported
    assert sorted(m for m in imported if m.split(".")[0] in HEAVY) == []


def test_help_in_process_leaves_heavy_libraries_unloaded() -> None:
    script = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from afluente.cli.app import _register, app\n"
        "_register()\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in sys.argv[1:])\n"
        "print(json.dumps({'code': result.exit_code, 'heavy': heavy,"
        " 'validate': 'validate' in result.output}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *HEAVY], capture_output=True, text=True, timeout=60
    )

    assert json.loads(result.stdout.splitlines()[-1]) == {
        "code": 0,
        "heavy": [],
        "validate": True,
    }


# -- the pieces the CLI uses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("x"), 2),
        (ModelError("x"), 2),
        (SelectorError("x"), 2),
        (StorageError("x"), 1),
        (TransientConnectorError("x"), 1),
        (AfluenteError("x"), 1),
    ],
)
def test_exit_code_is_2_for_project_errors_only(error: AfluenteError, code: int) -> None:
    assert exit_code(error) == code


def test_render_puts_location_table_and_hint_in_one_block() -> None:
    error = ModelError("bad join", location=Location("m.sql", 3, 7), table="gold.x", hint="fix")
    named = ModelError("`gold.x` is bad", location=Location("m.sql"), table="gold.x")

    assert error.render() == "m.sql:3:7: [gold.x] bad join\n  hint: fix"
    assert str(named) == "m.sql: `gold.x` is bad"
    assert str(Location("m.sql", None, 4)) == "m.sql"
    assert not ConfigError("x").transient and TransientConnectorError("x").transient


def test_terminal_error_prints_brackets_literally() -> None:
    err = io.StringIO()
    console = Console(err=RichTerminal(file=err, width=200, color_system=None))

    console.error("models/[draft]/x.sql:1: bad [bold]thing[/]")

    assert err.getvalue() == "error: models/[draft]/x.sql:1: bad [bold]thing[/]\n"


def test_json_error_is_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    JsonConsole().error("f.sql:2: oops\n  hint: ä")

    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", '{"error": "f.sql:2: oops\\n  hint: ä"}\n')
