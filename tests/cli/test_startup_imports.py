"""Short commands import only what they use (start-up cost; figures in bench/RESULTS.md §9).

Each command runs as a real process under `python -X importtime`, which lists every module
the process imported.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold


def imported_by(root: Path, *args: str) -> set[str]:
    """The top-level packages a CLI call imported (it must succeed)."""
    return {name.split(".")[0] for name in modules_imported_by(root, *args)}


def modules_imported_by(root: Path, *args: str) -> set[str]:
    """Every module a CLI call imported (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "afluente", "-p", str(root), *args],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:")]
    return set(lines)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("startup") / "shop"
    scaffold(root)
    run = subprocess.run([sys.executable, "-m", "afluente", "-p", str(root), "run"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return root


def test_runs_reads_a_healthy_store_without_sqlalchemy_or_the_data_stack(shop: Path) -> None:
    for command in (["runs"], ["runs", "2"]):  # the list; one run by id prefix
        modules = imported_by(shop, *command)
        assert not modules & {"sqlalchemy", "alembic", "pyarrow", "duckdb", "deltalake",
                              "sqlglot", "openlineage"}, command


def test_show_and_plan_skip_sqlglot_when_the_parse_cache_is_warm(shop: Path) -> None:
    for command in (["show", "silver.orders"], ["plan"]):
        modules = modules_imported_by(shop, *command)
        assert not {m.split(".")[0] for m in modules} & {"sqlglot", "alembic", "openlineage"}
        # pyarrow.dataset would import pandas (0.3-0.4 s); no model's function runs here
        assert "pandas.core" not in modules, command


def test_query_and_run_skip_alembic_and_an_unconfigured_openlineage(shop: Path) -> None:
    for command in (["query", "select count(*) from silver.orders"], ["run"]):
        modules = modules_imported_by(shop, *command)
        assert not {m.split(".")[0] for m in modules} & {"alembic", "openlineage"}, command
    assert "pandas.core" in modules  # the run: the starter's gold model is Python


def test_a_query_of_data_tables_leaves_the_state_store_and_the_quality_compiler_closed(
    shop: Path,
) -> None:
    modules = modules_imported_by(shop, "query", "select count(*) from silver.orders")
    assert not {m.split(".")[0] for m in modules} & {"sqlalchemy", "alembic", "sqlglot"}
    # quarantine tables are named without loading the quarantine writer and what it compiles
    assert not modules & {"afluente.runtime.quarantine", "afluente.quality.compile"}


def test_a_query_of_no_table_loads_neither_the_models_nor_arrow(shop: Path) -> None:
    modules = modules_imported_by(shop, "query", "select 1")
    # DuckDB hands the rows over as Python values: no Arrow (nor numpy) for a table-less query
    assert not modules & {"pyarrow", "numpy", "afluente.model.discover", "sqlalchemy", "sqlglot"}
    # a project whose landing paths are local never loads the object-storage client (and TLS)
    assert not modules & {"afluente.connectors.files.object_storage", "pyarrow.fs", "ssl"}


def test_query_and_show_of_a_table_leave_an_installed_pandas_and_numpy_unimported(
    shop: Path,
) -> None:
    pytest.importorskip("pandas")  # pyarrow imports both while it loads when installed
    for command in (["query", "select count(*) from silver.orders"], ["show", "silver.orders"]):
        modules = modules_imported_by(shop, *command)
        assert "pyarrow.dataset" in modules, command
        assert not {m for m in modules if m.startswith(("pandas.", "numpy."))}, command


def test_validate_and_a_run_without_python_models_leave_pandas_out(
    shop: Path, tmp_path: Path
) -> None:
    # pyarrow.dataset would import pandas (0.3-0.4 s); only a Python model may use it
    assert "pandas.core" not in modules_imported_by(shop, "validate")
    sql_only = tmp_path / "sql_only"
    shutil.copytree(shop, sql_only)
    (sql_only / "models/gold/monthly_revenue.py").unlink()
    assert "pandas.core" not in modules_imported_by(sql_only, "run")
