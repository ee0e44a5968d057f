"""Projects with a `type: kafka` source, and reading their bronze table back."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse

REF = TableRef("bronze", "events")


def make_project(root: Path, bootstrap: str, source: str, models: dict[str, str] | None = None
                 ) -> Path:
    """A project with one Kafka source `events` (bronze.events), plus `models`
    (`silver/x.sql` -> SQL text)."""
    root.mkdir(parents=True, exist_ok=True)
    head = (f"name: streamp\nsources:\n  events:\n    type: kafka\n"
            f"    bootstrap_servers: {bootstrap}\n    poll_timeout: 0.5\n")
    body = textwrap.indent(textwrap.dedent(source).strip() + "\n", "    ")
    (root / "afluente.yml").write_text(head + body, encoding="utf-8")
    for path, sql in (models or {}).items():
        target = root / "models" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(sql).strip() + "\n", encoding="utf-8")
    return root


def run(root: Path, **kwargs: Any) -> Any:
    return run_project(load_project(root), **kwargs)


def ok(result: Any) -> Any:
    assert result.status == "success", [m.reason for m in result.failed]
    return result


def failure(result: Any) -> str:
    assert result.status == "failed"
    (failed,) = result.failed
    return str(failed.reason)


def warehouse(root: Path) -> Warehouse:
    return Warehouse(load_project(root).warehouse_uri)


def table(root: Path, ref: TableRef = REF) -> pa.Table:
    return warehouse(root).dataset(ref).to_table()


def version(root: Path, ref: TableRef = REF) -> int | None:
    return warehouse(root).version(ref)
