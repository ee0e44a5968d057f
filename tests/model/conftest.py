"""Fixtures of the model tests: a starter project (`afluente init`) to edit per test."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import Project, load_project
from afluente.errors import AfluenteError
from afluente.model import Graph, load_graph


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Write each `path: text` under `root` (text is dedented; parents are created)."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


@dataclass
class ProjectTree:
    """A project folder on disk that a test edits, then loads."""

    root: Path

    def write(self, files: dict[str, str]) -> ProjectTree:
        write_tree(self.root, files)
        return self

    def remove(self, *relatives: str) -> ProjectTree:
        for relative in relatives:
            (self.root / relative).unlink()
        return self

    def path(self, relative: str) -> Path:
        return self.root / relative

    def load(self, environment: str | None = None) -> Project:
        return load_project(self.root, environment)

    def graph(self) -> Graph:
        return load_graph(self.load())

    def error(self, kind: type[AfluenteError] = AfluenteError) -> AfluenteError:
        """The error that loading the graph raises (fails the test when none is raised)."""
        with pytest.raises(kind) as caught:
            self.graph()
        return caught.value


MakeProject = Callable[[dict[str, str]], ProjectTree]


@pytest.fixture(autouse=True)
def _no_ambient_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFLUENTE_ENV", raising=False)


@pytest.fixture
def starter(tmp_path: Path) -> ProjectTree:
    """The project `afluente init` writes: 2 sources, 2 silver SQL models, 2 gold models."""
    root = tmp_path.resolve() / "shop"
    scaffold(root)
    return ProjectTree(root)


@pytest.fixture
def bare(tmp_path: Path) -> MakeProject:
    """A project holding only the given files (plus `name: bare` when no afluente.yml)."""

    def make(files: dict[str, str]) -> ProjectTree:
        tree = ProjectTree(tmp_path.resolve() / "bare")
        tree.write({"afluente.yml": "name: bare\n", **files})
        return tree

    return make
