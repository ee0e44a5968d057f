"""Environments: `--env NAME` (or AFLUENTE_ENV, or default_environment) applies overrides."""

from __future__ import annotations

import pytest

from afluente.engines import DuckDBSettings, SparkSettings, engine_settings
from afluente.errors import Location

from .conftest import WriteProject, config_error, load

PROJECT = """\
    name: shop
    warehouse: warehouse
    engine: {threads: 2}
    vars: {start: '2026-01-01', region: br}
    environments:
      dev: {}
      prod:
        warehouse: s3://lake/prod
        state: postgresql+psycopg://etl@db/state
        engine: {threads: 16, memory_limit: 64GB}
        vars: {region: all}
    """


def test_without_environment_the_base_config_applies(write_project: WriteProject) -> None:
    project = load(write_project(PROJECT))

    assert project.environment is None
    assert project.warehouse_uri == str(project.root / "warehouse")
    assert project.config.vars == {"start": "2026-01-01", "region": "br"}
    assert engine_settings(project) == DuckDBSettings(threads=2)


def test_environment_overrides_warehouse_state_engine_and_merges_vars(
    write_project: WriteProject,
) -> None:
    project = load(write_project(PROJECT), "prod")

    assert project.environment == "prod"
    assert project.config.warehouse == "s3://lake/prod"
    assert project.warehouse_uri == "s3://lake/prod"
    assert project.state_url == "postgresql+psycopg://etl@db/state"
    assert engine_settings(project) == DuckDBSettings(threads=16, memory_limit="64GB")
    assert project.config.vars == {"start": "2026-01-01", "region": "all"}


def test_empty_environment_changes_nothing(write_project: WriteProject) -> None:
    root = write_project(PROJECT)

    dev, base = load(root, "dev"), load(root)

    assert dev.environment == "dev"
    assert dev.config == base.config


def test_afluente_env_and_default_environment_pick_one(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(PROJECT + "default_environment: dev\n")

    assert load(root).environment == "dev"
    monkeypatch.setenv("AFLUENTE_ENV", "prod")
    assert load(root).environment == "prod"
    assert load(root, "dev").environment == "dev"


def test_unknown_environment_lists_the_declared_ones(write_project: WriteProject) -> None:
    root = write_project(PROJECT)

    error = config_error(root, "staging")

    assert error.message == "unknown environment `staging`"
    assert error.location == Location(root / "afluente.yml", 5)
    assert error.hint == "declared environments: dev, prod"


def test_unknown_environment_when_none_is_declared(write_project: WriteProject) -> None:
    root = write_project("name: p\n")

    error = config_error(root, "prod")

    assert error.location == Location(root / "afluente.yml", 1)
    assert error.hint == "declared environments: (none declared)"


def test_unknown_default_environment_is_an_error(write_project: WriteProject) -> None:
    error = config_error(write_project(PROJECT + "default_environment: qa\n"))

    assert error.message == "unknown environment `qa`"


def test_typo_inside_an_environment(write_project: WriteProject) -> None:
    root = write_project(PROJECT.replace("warehouse: s3://lake/prod", "warehose: s3://x"))

    error = config_error(root)

    assert error.message == "unknown key `environments.prod.warehose`"
    assert error.location == Location(root / "afluente.yml", 8)
    assert error.hint == (
        "did you mean `warehouse`? valid keys here: engine, engines, state, vars, warehouse"
    )


def test_secret_of_another_environment_is_not_needed(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AFLUENTE_TEST_PROD_PASSWORD", raising=False)
    root = write_project(
        PROJECT.replace("etl@db/state", "etl:${AFLUENTE_TEST_PROD_PASSWORD}@db/state")
    )

    assert load(root, "dev").config.state is None


ENGINES = """\
    name: shop
    engines:
      big: {type: spark, master: 'spark://etl:7077'}
    environments:
      dev:
        engines:
          big: {type: duckdb, threads: 1}    # the heavy models run locally in dev
          scratch: duckdb
      prod: {}
      broken:
        engines:
          big: {type: duckdb, thread: 1}
    """


def test_an_environment_replaces_or_adds_engines_by_name(write_project: WriteProject) -> None:
    root = write_project(ENGINES)

    dev, prod = load(root, "dev"), load(root, "prod")

    assert engine_settings(dev, "big") == DuckDBSettings(threads=1)
    assert engine_settings(dev, "scratch") == DuckDBSettings()
    assert engine_settings(prod, "big") == SparkSettings(master="spark://etl:7077")
    assert sorted(prod.config.engines) == ["big"]


def test_an_environments_engine_error_points_into_the_environment(
    write_project: WriteProject,
) -> None:
    error = config_error(write_project(ENGINES), "broken")

    assert "unknown key `environments.broken.engines.big.thread`" in error.message
    assert error.hint is not None and "did you mean `threads`?" in error.hint
    assert error.location is not None
    assert error.location.line == 12
