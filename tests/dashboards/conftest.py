"""One small demo, built once, whose gold tables the dashboard tests read."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.runtime import run_project


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboards") / "shop"
    prepare_demo(root, orders=300, seed=11)
    assert run_project(load_project(root)).status == "success"
    return root
