"""A model the project's engine cannot build is refused before anything runs, naming the
model's file: `validate` reports it, `run` writes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.engines import Capability
from afluente.engines.registry import engine_capabilities

MERGE_MODEL = """/* @config
kind: merge
unique_key: order_id
*/
SELECT CAST(order_id AS INTEGER) AS order_id, amount
FROM bronze.orders
"""


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_afluente(["-p", str(root), *args])


def on_engine(root: Path, engine: str) -> None:
    config = root / "afluente.yml"
    config.write_text(config.read_text().replace("engine: duckdb", engine))


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    scaffold(root)
    (root / "models" / "silver" / "orders_by_id.sql").write_text(MERGE_MODEL)
    return root


def test_duckdb_has_a_workspace_and_spark_has_none_yet(shop: Path) -> None:
    assert Capability.WORKSPACE in engine_capabilities(load_project(shop))
    on_engine(shop, "engine: {type: spark}")
    assert Capability.WORKSPACE not in engine_capabilities(load_project(shop))


def test_validate_names_the_incremental_model_an_engine_cannot_build(shop: Path) -> None:
    on_engine(shop, "engine: {type: spark}")
    done = afluente(shop, "validate")
    assert done.returncode != 0
    assert "orders_by_id.sql" in done.stderr
    assert "`silver.orders_by_id` is a `merge` table" in done.stderr
    assert "engine: duckdb" in done.stderr  # the hint


def test_run_refuses_before_writing_anything(shop: Path) -> None:
    on_engine(shop, "engine: {type: spark}")
    done = afluente(shop, "run")
    assert done.returncode != 0
    assert "cannot build incremental kinds" in done.stderr
    assert not (shop / "warehouse").exists()  # `run` on DuckDB creates it (next test)


def test_the_same_project_validates_and_runs_on_duckdb(shop: Path) -> None:
    done = afluente(shop, "validate")
    assert done.returncode == 0, done.stderr
    done = afluente(shop, "run")
    assert done.returncode == 0, done.stderr
    assert (shop / "warehouse" / "silver" / "orders_by_id" / "_delta_log").is_dir()
