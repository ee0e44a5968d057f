"""What the Spark modules compare against, built on DuckDB once per test session.

* ``duckdb_project``: the small project (`test_spark_project.make_project`) after one run.
* ``duckdb_demo``: the demo project (`content.demo_project`) run twice, the second time over
  `land_second_batch`; the content hashes of its tables after the first run are kept, so
  the Spark local, cluster and Connect modules check both runs against one DuckDB build.

Both are read, never run again: a test that changes one works on a `shutil.copytree` of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.engines.spark.content import demo_project, land_second_batch, table_hashes
from tests.engines.spark.test_spark_project import make_project

from afluente.config import load_project
from afluente.runtime.runner import run_project


@dataclass(frozen=True)
class DemoTwin:
    """The DuckDB demo after its second run (`root`), and per table (bronze included) its
    `table_hashes` after the first run."""

    root: Path
    first_run: dict[tuple[str, str], str]


def _build(root: Path) -> None:
    result = run_project(load_project(root))
    assert result.status == "success", [(str(m.ref), str(m.error)) for m in result.failed]


@pytest.fixture(scope="session")
def duckdb_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("duckdb-project") / "duck", "engine: duckdb")
    _build(root)
    return root


@pytest.fixture(scope="session")
def duckdb_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoTwin:
    root = demo_project(tmp_path_factory.mktemp("duckdb-demo") / "duck", "engine: duckdb")
    _build(root)
    first = table_hashes(root, ("bronze", "silver", "gold"))
    land_second_batch(root)
    _build(root)
    return DemoTwin(root, first)
