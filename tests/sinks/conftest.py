"""Projects with gold tables and a PostgreSQL sink, built in tmp_path, and a reader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from afluente.config import Project, load_project


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def fetch(url: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def column_types(url: str, schema: str, table: str) -> dict[str, str]:
    rows = fetch(url, "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
                      "FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
                      "AND NOT a.attisdropped ORDER BY a.attnum", [f"{schema}.{table}"])
    return {name: kind for name, kind in rows}


MakeProject = Callable[..., Project]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """`make_project(models={"gold/x.sql": "SELECT ..."}, sinks="mart:\\n  type: ...")`."""

    def make(models: dict[str, str], sinks: str) -> Project:
        root = tmp_path / "mart_project"
        for name, text in models.items():
            path = root / "models" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        indented = "\n".join("  " + line for line in sinks.strip().splitlines())
        (root / "afluente.yml").write_text(f"name: mart_test\nsinks:\n{indented}\n")
        return load_project(root)

    return make
