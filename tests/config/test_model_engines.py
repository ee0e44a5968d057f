"""`engines:` names more engines than the project's `engine:`; a model picks one with
`engine:` in its config, by name or by type. Everything here is checked without starting
an engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.config.conftest import WriteProject, config_error, load

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.engines import DuckDBSettings, SparkSettings, engine_settings
from afluente.engines.registry import engine_label, known_engines
from afluente.errors import ConfigError
from afluente.model import TableRef, load_graph
from afluente.runtime.engine_fit import check_engine_fits, model_engine

TWO_ENGINES = """
    name: p
    engine: duckdb
    engines:
      big: {type: spark, master: "local[1]", conf: {spark.sql.shuffle.partitions: 2}}
      small: duckdb
"""


def test_engines_are_validated_by_their_own_settings(write_project: WriteProject) -> None:
    project = load(write_project(TWO_ENGINES))

    assert engine_settings(project, "big") == SparkSettings(
        master="local[1]", conf={"spark.sql.shuffle.partitions": 2})
    assert engine_settings(project, "small") == DuckDBSettings()
    assert engine_settings(project) == DuckDBSettings()


def test_a_model_picks_an_engine_by_name_or_by_type(write_project: WriteProject) -> None:
    project = load(write_project(TWO_ENGINES))

    assert engine_label(project, None) == "duckdb"  # the project's `engine:`
    assert engine_label(project, "duckdb") == "duckdb"  # its type: the project's engine
    assert engine_label(project, "big") == "big"
    assert engine_label(project, "spark") == "big"  # the one engine of that type
    assert known_engines(project) == ["big", "small", "duckdb", "spark"]


def test_a_type_no_engine_has_runs_with_that_types_defaults(
    write_project: WriteProject,
) -> None:
    project = load(write_project("name: p\nengine: duckdb\n"))

    assert engine_label(project, "spark") == "spark"
    assert engine_settings(project, "spark") == SparkSettings()


def test_a_type_two_engines_have_is_ambiguous(write_project: WriteProject) -> None:
    project = load(write_project(
        "name: p\nengines:\n  a: {type: spark}\n  b: {type: spark, master: 'local[1]'}\n"))

    with pytest.raises(ConfigError) as caught:
        engine_label(project, "spark")

    assert "`engine: spark` is ambiguous: engines a, b are all of type `spark`" in str(
        caught.value.render())


def test_a_misspelt_key_of_a_named_engine_names_its_line(write_project: WriteProject) -> None:
    root = write_project("name: p\nengines:\n  big:\n    type: spark\n    mster: local[1]\n")

    error = config_error(root)

    assert "unknown key `engines.big.mster`" in error.message
    assert error.location is not None and error.location.line == 5
    assert "did you mean `master`?" in (error.hint or "")


def test_an_unknown_engine_type_in_engines_names_its_line(write_project: WriteProject) -> None:
    root = write_project("name: p\nengine: duckdb\nengines:\n  big: {type: sprak}\n")

    error = config_error(root)

    assert "no engine of type `sprak`" in error.message
    assert error.location is not None and error.location.line == 4
    assert "did you mean `spark`?" in (error.hint or "")


def test_an_engine_named_like_the_projects_engine_type_is_refused(
    write_project: WriteProject,
) -> None:
    root = write_project("name: p\nengine: duckdb\nengines:\n  duckdb: {type: duckdb}\n")

    error = config_error(root)

    assert "the engine name `duckdb` is the type of the project's `engine:`" in error.message
    assert error.location is not None and error.location.line == 4


def test_an_engine_name_must_be_an_identifier(write_project: WriteProject) -> None:
    root = write_project("name: p\nengines:\n  big one: spark\n")

    error = config_error(root)

    assert "engine name 'big one' must be an identifier" in error.message


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    scaffold(root)
    config = root / "afluente.yml"
    config.write_text(config.read_text() + "engines:\n  big: {type: spark}\n")
    return root


def set_engine(root: Path, model: str, engine: str) -> Path:
    path = root / "models" / f"{model}.sql"
    path.write_text(path.read_text().replace("/* @config\n", f"/* @config\nengine: {engine}\n", 1))
    return path


def test_a_model_header_and_a_folder_default_choose_the_engine(shop: Path) -> None:
    set_engine(shop, "silver/orders", "big")
    config = shop / "afluente.yml"
    config.write_text(config.read_text() + "models:\n  gold: {engine: spark}\n")
    project = load_project(shop)
    graph = load_graph(project)

    engines = {str(ref): model_engine(project, graph[ref]) for ref in graph.order}

    assert engines["silver.orders"] == "big"
    assert engines["gold.revenue_by_state"] == "big"  # by type, from the folder default
    assert engines["silver.customers"] == "duckdb"
    assert engines["bronze.orders"] == "duckdb"


def test_an_unknown_engine_name_names_the_model_file_line_and_the_known_names(
    shop: Path,
) -> None:
    model = set_engine(shop, "silver/orders", "huge")
    project = load_project(shop)
    graph = load_graph(project)

    with pytest.raises(ConfigError) as caught:
        check_engine_fits(project, graph, {TableRef("silver", "orders")})

    error = caught.value
    assert error.message == "no engine named `huge`"
    assert error.location is not None
    assert Path(error.location.file) == model and error.location.line == 2
    assert "known engines: big, duckdb, spark" in (error.hint or "")


def test_validate_refuses_an_unknown_engine_name(shop: Path) -> None:
    set_engine(shop, "silver/orders", "bigg")

    done = subprocess.run([sys.executable, "-m", "afluente.cli", "-p", str(shop), "validate"],
                          capture_output=True, text=True, check=False, env=dict(os.environ))

    assert done.returncode != 0
    assert "orders.sql:2" in done.stderr
    assert "no engine named `bigg`" in done.stderr
    assert "did you mean `big`?" in done.stderr


def test_moving_a_model_to_another_engine_does_not_make_it_stale(shop: Path) -> None:
    before = load_graph(load_project(shop)).fingerprints
    set_engine(shop, "silver/orders", "big")

    after = load_graph(load_project(shop)).fingerprints

    assert after == before
