"""Short commands import only what they use (start-up cost; figures in bench/RESULTS.md §9).

Each command runs as a real process under `python -X importtime`, which lists every module
the process imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold


def imported_by(root: Path, *args: str) -> set[str]:
    """The top-level packages a CLI call imported (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "afluente", "-p", str(root), *args],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:")]
    return {name.split(".")[0] for name in lines}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("startup") / "shop"
    scaffold(root)
    run = subprocess.run([sys.executable, "-m", "afluente", "-p", str(root), "run"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return root


def test_runs_loads_neither_alembic_nor_the_data_stack(shop: Path) -> None:
    modules = imported_by(shop, "runs")
    assert "sqlalchemy" in modules
    assert not modules & {"alembic", "pyarrow", "duckdb", "deltalake", "sqlglot", "openlineage"}


def test_show_and_plan_skip_sqlglot_when_the_parse_cache_is_warm(shop: Path) -> None:
    for command in (["show", "silver.orders"], ["plan"]):
        modules = imported_by(shop, *command)
        assert not modules & {"sqlglot", "alembic", "openlineage"}, command


def test_query_and_run_skip_alembic_and_an_unconfigured_openlineage(shop: Path) -> None:
    for command in (["query", "select count(*) from silver.orders"], ["run"]):
        modules = imported_by(shop, *command)
        assert not modules & {"alembic", "openlineage"}, command
