"""Build a one-source project in tmp, run it, read its bronze table."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse

REF = TableRef("bronze", "orders")


def make_project(root: Path, source: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    body = textwrap.indent(textwrap.dedent(source).strip() + "\n", "    ")
    (root / "afluente.yml").write_text(
        "name: dbsource\nsources:\n  orders:\n" + body, encoding="utf-8"
    )
    return root


def run(root: Path, **kwargs: Any) -> Any:
    return run_project(load_project(root), **kwargs)


def bronze(root: Path) -> pa.Table:
    return Warehouse(load_project(root).warehouse_uri).dataset(REF).to_table()


def rows(root: Path, *columns: str) -> list[tuple[Any, ...]]:
    table = bronze(root)
    return sorted(zip(*(table.column(c).to_pylist() for c in columns), strict=True), key=repr)


def version(root: Path) -> int | None:
    return Warehouse(load_project(root).warehouse_uri).version(REF)


def progress(root: Path) -> list[dict[str, Any]]:
    return [c.progress for c in Warehouse(load_project(root).warehouse_uri).history(REF)]


def plain_url(url: str) -> str:
    """The fixture's `postgresql+psycopg://` URL as `postgresql://`."""
    return url.replace("postgresql+psycopg://", "postgresql://")
