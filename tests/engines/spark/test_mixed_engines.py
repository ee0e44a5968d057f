"""One run, two engines: a few models on Spark (`engine:` in their config), the rest on
DuckDB, all on the same Delta tables. Each model reads its inputs from Delta on its own
engine, so the tables hold what an all-DuckDB run writes.

The Spark engine named here runs on the tests' shared Spark (`local[2]`), started once by
the `spark_started` fixture."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.engines.spark.test_spark_project import TABLES, content_hash, make_project
from typer.testing import CliRunner

from afluente.cli.app import _register, app
from afluente.config import load_project
from afluente.errors import AfluenteError
from afluente.model import TableRef, load_graph
from afluente.runtime.model_binding import bind_models
from afluente.runtime.quality_check import check_project
from afluente.runtime.runner import run_project

BIG = ("engines:\n  big: {type: spark, master: 'local[2]', "
       "conf: {spark.sql.shuffle.partitions: 2}}\n")
# a Spark engine that cannot start: a run that builds nothing on it must never try
UNREACHABLE = "engines:\n  big: {type: spark, master: 'spark://127.0.0.1:9'}\n"


def with_engines(root: Path, engines: str, on_spark: dict[str, str]) -> Path:
    """Declare `engines` and give each model of `on_spark` its `engine:` (name or type)."""
    config = root / "afluente.yml"
    config.write_text(config.read_text() + engines)
    for model, engine in on_spark.items():
        path = root / "models" / f"{model}.sql"
        text = path.read_text()
        if text.startswith("/* @config\n"):
            text = text.replace("/* @config\n", f"/* @config\nengine: {engine}\n", 1)
        else:
            text = f"/* @config\nengine: {engine}\n*/\n{text}"
        path.write_text(text)
    return root


# silver.orders between DuckDB's bronze ingest and DuckDB's gold models; a gold model by
# type; a model reading the DuckDB-built view silver.paid_orders over Spark's silver.orders
SPARK_MODELS = {"silver/orders": "big", "gold/revenue_by_state": "spark",
                "gold/state_orders": "big"}


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, spark_started: Any, duckdb_project: Path
) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("mixed")
    mixed = with_engines(make_project(base / "mixed", "engine: duckdb"), BIG, SPARK_MODELS)
    result = run_project(load_project(mixed))
    assert result.status == "success", result.error
    return duckdb_project, mixed


@pytest.mark.parametrize(("layer", "name"), TABLES)
def test_a_mixed_run_writes_the_same_tables_as_duckdb(
    built: tuple[Path, Path], layer: str, name: str
) -> None:
    on_duckdb, mixed = built

    assert content_hash(mixed, layer, name) == content_hash(on_duckdb, layer, name)


def plan(root: Path, *flags: str) -> str:
    _register()
    shown = CliRunner().invoke(app, ["-p", str(root), *flags, "plan", "--full-refresh"])
    assert shown.exit_code == 0, shown.output
    return shown.output


def test_plan_shows_the_engine_of_each_model(built: tuple[Path, Path]) -> None:
    _, mixed = built

    steps = json.loads(plan(mixed, "--json"))["steps"]

    engines = {step["table"]: step["engine"] for step in steps}
    assert engines == {
        "bronze.customers": "duckdb", "bronze.orders": "duckdb", "silver.customers": "duckdb",
        "silver.orders": "big", "silver.paid_orders": "duckdb", "gold.big_orders": "duckdb",
        "gold.big_orders_pandas": "duckdb", "gold.checked_orders": "duckdb",
        "gold.orders_per_day": "duckdb",
        "gold.revenue_by_state": "big", "gold.state_orders": "big",
    }


def test_plan_adds_an_engine_column_only_when_models_use_several(
    built: tuple[Path, Path],
) -> None:
    on_duckdb, mixed = built

    several, one = plan(mixed), plan(on_duckdb)

    header = next(line for line in several.splitlines() if "table" in line)
    assert [w for w in header.split() if w.isalpha()] == [
        "table", "kind", "engine", "action", "reason"]
    assert "engine" not in one


def test_run_says_which_engine_builds_each_model(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    root = tmp_path / "mixed"
    shutil.copytree(built[1], root)
    _register()

    done = CliRunner().invoke(app, ["-p", str(root), "run", "--select", "+gold.state_orders",
                                    "--full-refresh"])

    assert done.exit_code == 0, done.output
    assert "6 to build, 0 up to date; engines: duckdb 4, big 2" in done.output
    lines = {line.split()[1]: line for line in done.output.splitlines()
             if line.startswith("✓ ")}
    assert lines["silver.orders"].rstrip().endswith("big")
    assert lines["silver.customers"].rstrip().endswith("duckdb")


def test_a_run_of_duckdb_models_never_starts_a_declared_spark_engine(tmp_path: Path) -> None:
    root = with_engines(make_project(tmp_path / "p", "engine: duckdb"), UNREACHABLE,
                        {"gold/revenue_by_state": "big"})

    only_duckdb = run_project(load_project(root), "+silver.orders +silver.customers")
    with_spark = run_project(load_project(root), "gold.revenue_by_state")

    assert only_duckdb.status == "success", only_duckdb.error
    assert with_spark.status == "failed"
    assert "spark://127.0.0.1:9" in (with_spark.error or "")


def test_check_evaluates_a_model_on_its_own_engine(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """`check` of a model on the declared Spark engine gives DuckDB's tallies; the same
    model pointed at an unreachable Spark fails naming it (so `check` used the model's
    engine, not the project's DuckDB)."""
    on_duckdb, mixed = built
    root = with_engines(copy(mixed, tmp_path / "on_big"), "", {"gold/checked_orders": "big"})
    gone = with_engines(copy(on_duckdb, tmp_path / "gone"), UNREACHABLE,
                        {"gold/checked_orders": "big"})

    tallies = [sorted((r.rule, r.evaluated, r.failed) for r in
                      check_project(load_project(p), "gold.checked_orders"))
               for p in (root, on_duckdb)]
    with pytest.raises(AfluenteError, match=r"spark://127\.0\.0\.1:9"):
        check_project(load_project(gone), "gold.checked_orders")

    assert tallies[0] == tallies[1]
    assert ("not_tiny", 3, 1) in tallies[0]  # the stored rows: the quarantined one is gone


def test_validate_binds_each_model_on_its_own_engine(tmp_path: Path) -> None:
    """Binding (`validate`) runs a model's SQL on its engine: Spark's transpiled SQL for a
    model on Spark, so an unreachable Spark is reported, and DuckDB binds the rest."""
    root = with_engines(make_project(tmp_path / "p", "engine: duckdb"), UNREACHABLE,
                        {"gold/revenue_by_state": "big"})
    project = load_project(root)
    assert run_project(project, "+silver.orders +silver.customers").status == "success"

    with pytest.raises(AfluenteError, match=r"spark://127\.0\.0\.1:9"):
        bind_models(project, load_graph(project, cache=False))
    (root / "models" / "gold" / "revenue_by_state.sql").unlink()
    binding = bind_models(project, load_graph(project, cache=False))
    assert TableRef("gold", "orders_per_day") in binding.bound


def copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
