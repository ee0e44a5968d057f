"""A tiny project per test: one `files` source, run end to end, bronze read back."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.runtime.results import RunResult
from afluente.storage import Warehouse


@dataclass
class FilesProject:
    """A project folder with `landing/` and one source `s` (bronze.s)."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def source(self, body: str) -> None:
        text = "name: p\nsources:\n  s:\n    type: files\n" + textwrap.indent(
            textwrap.dedent(body), "    "
        )
        (self.root / "afluente.yml").write_text(text, encoding="utf-8")

    def write(self, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
        path = self.landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
        return path

    def run(self, **kwargs: Any) -> RunResult:
        return run_project(load_project(self.root), **kwargs)

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(load_project(self.root).warehouse_uri)

    def version(self) -> int | None:
        return self.warehouse.version(TableRef("bronze", "s"))

    def bronze(self) -> pa.Table:
        return self.warehouse.dataset(TableRef("bronze", "s")).to_table()

    def rows(self, *columns: str) -> list[tuple[Any, ...]]:
        """The bronze rows' `columns`, sorted (nulls first)."""
        table = self.bronze()
        found = zip(*(table.column(c).to_pylist() for c in columns), strict=True)
        return sorted(found, key=lambda row: [(v is not None, str(v)) for v in row])


@pytest.fixture
def files_project(tmp_path: Path) -> FilesProject:
    root = tmp_path / "p"
    root.mkdir()
    return FilesProject(root)


def failure(result: RunResult) -> str:
    (failed,) = result.failed
    return str(failed.reason)
