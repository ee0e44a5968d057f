"""A tiny project for the scheduler: one CSV files source and one SQL model over it."""

from __future__ import annotations

import textwrap
from pathlib import Path

MODEL = "SELECT CAST(id AS INTEGER) AS id, v FROM bronze.orders\n"


def write_project(root: Path, orchestration: str) -> Path:
    """`root` with `afluente.yml` (+ `orchestration`, YAML text), a model, an empty landing."""
    (root / "landing" / "orders").mkdir(parents=True, exist_ok=True)
    (root / "models" / "silver").mkdir(parents=True, exist_ok=True)
    (root / "models" / "silver" / "orders.sql").write_text(MODEL)
    (root / "afluente.yml").write_text(
        "name: sched\n"
        "sources:\n"
        "  orders:\n"
        "    type: files\n"
        "    path: landing/orders/*.csv\n"
        + textwrap.dedent(orchestration)
    )
    return root


def land(root: Path, name: str, ids: range) -> None:
    """Drop a CSV into the landing folder (written aside, then renamed: it lands whole)."""
    partial = root / "landing" / f".{name}.part"
    partial.write_text("id,v\n" + "".join(f"{i},v{i}\n" for i in ids))
    partial.rename(root / "landing" / "orders" / name)
