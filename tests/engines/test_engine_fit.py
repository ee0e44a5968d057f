"""A model the project's engine cannot build is refused before anything runs, naming the
model's file: `validate` reports it, `run` writes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import Project, load_project
from afluente.engines import Capability
from afluente.engines.registry import engine_capabilities
from afluente.errors import EngineError
from afluente.model.discover import load_graph
from afluente.runtime import engine_fit
from afluente.runtime.runner import run_project

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


def test_duckdb_and_spark_have_a_workspace(shop: Path) -> None:
    assert Capability.WORKSPACE in engine_capabilities(load_project(shop))
    on_engine(shop, "engine: {type: spark}")
    assert Capability.WORKSPACE in engine_capabilities(load_project(shop))


@pytest.fixture
def without_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's engine as one that has no workspace (as a third-party engine may)."""
    def capabilities(project: Project, engine: str | None = None) -> frozenset[Capability]:
        return engine_capabilities(project, engine) - {Capability.WORKSPACE}

    monkeypatch.setattr(engine_fit, "engine_capabilities", capabilities)


@pytest.mark.usefixtures("without_workspace")
def test_an_engine_without_a_workspace_names_the_incremental_model(shop: Path) -> None:
    project = load_project(shop)
    graph = load_graph(project)

    with pytest.raises(EngineError) as raised:
        engine_fit.check_engine_fits(project, graph, graph.nodes)

    message = str(raised.value)
    assert "orders_by_id.sql" in message
    assert "`silver.orders_by_id` is a `merge` table" in message
    assert "engine: duckdb" in message  # the hint


@pytest.mark.usefixtures("without_workspace")
def test_run_refuses_before_writing_anything(shop: Path) -> None:
    with pytest.raises(EngineError, match="cannot build incremental kinds"):
        run_project(load_project(shop))

    assert not (shop / "warehouse" / "silver" / "orders_by_id").exists()


def test_the_same_project_validates_and_runs_on_duckdb(shop: Path) -> None:
    done = afluente(shop, "validate")
    assert done.returncode == 0, done.stderr
    done = afluente(shop, "run")
    assert done.returncode == 0, done.stderr
    assert (shop / "warehouse" / "silver" / "orders_by_id" / "_delta_log").is_dir()
