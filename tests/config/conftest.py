"""Fixtures of the config tests: write an `afluente.yml`, load it, catch its error."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from afluente.config import Project, load_project
from afluente.connectors import validate_sources
from afluente.engines import validate_engine
from afluente.errors import ConfigError

WriteProject = Callable[[str], Path]


@pytest.fixture(autouse=True)
def _no_ambient_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFLUENTE_ENV", raising=False)


@pytest.fixture
def write_project(tmp_path: Path) -> WriteProject:
    """Write `afluente.yml` (dedented) into a fresh folder; return the folder."""
    root = tmp_path.resolve() / "project"
    root.mkdir()

    def write(text: str) -> Path:
        (root / "afluente.yml").write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return write


def load(root: Path, environment: str | None = None) -> Project:
    return load_project(root, environment)


def config_error(root: Path, environment: str | None = None) -> ConfigError:
    """The ConfigError loading `root` raises (fails the test when none is raised)."""
    with pytest.raises(ConfigError) as caught:
        project = load_project(root, environment)
        validate_sources(project)
        validate_engine(project)
    return caught.value
