"""A working starter project (the one `afluente init` writes) for runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import Project, load_project


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    scaffold(target, name="shop")
    return target


@pytest.fixture
def project(project_dir: Path) -> Project:
    return load_project(project_dir)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
