"""A small shop project whose orders arrive as one CSV file per run, so tests can build a
normal history and then inject real incidents (fewer rows, a dropped column, nulls, age)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from afluente.config import Project, load_project
from afluente.runtime import run_project
from afluente.runtime.results import RunResult

PROJECT = """\
name: shop
sources:
  orders:
    type: files
    path: landing/orders/*.csv
    format: csv
    freshness: {warn_after: 2h, error_after: 6h}
sinks:
  mart:
    type: postgres
    url: postgresql://user@127.0.0.1:1/mart
    tables: [gold.revenue_by_channel]
alerts:
  detector: {min_history: 4}
  channels:
    - type: log
"""
SILVER = """\
SELECT CAST(order_id AS INTEGER) AS order_id, channel, CAST(amount AS DOUBLE) AS amount
FROM bronze.orders
"""
GOLD = """\
SELECT channel, count(*) AS orders, sum(amount) AS revenue
FROM silver.orders GROUP BY channel
"""


class Shop:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.batch = 0
        self.next_id = 1
        self.rng = random.Random(7)

    @property
    def project(self) -> Project:
        return load_project(self.root)

    def land(
        self, rows: int | None = None, drop: str | None = None, null_rate: float = 0.0
    ) -> None:
        count = rows if rows is not None else self.rng.randint(95, 105)
        header = [c for c in ("order_id", "channel", "amount") if c != drop]
        lines = [",".join(header)]
        for _ in range(count):
            channel = "" if self.rng.random() < null_rate else self.rng.choice(["web", "app"])
            row = {"order_id": str(self.next_id), "channel": channel,
                   "amount": f"{self.rng.uniform(10, 20):.2f}"}
            lines.append(",".join(row[c] for c in header))
            self.next_id += 1
        self.batch += 1
        target = self.root / "landing" / "orders" / f"orders_{self.batch:03d}.csv"
        target.write_text("\n".join(lines) + "\n")

    def run(self, **landing: object) -> RunResult:
        self.land(**landing)  # type: ignore[arg-type]
        return run_project(self.project)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    root = tmp_path / "shop"
    (root / "landing" / "orders").mkdir(parents=True)
    (root / "models" / "silver").mkdir(parents=True)
    (root / "models" / "gold").mkdir(parents=True)
    (root / "afluente.yml").write_text(PROJECT)
    (root / "models" / "silver" / "orders.sql").write_text(SILVER)
    (root / "models" / "gold" / "revenue_by_channel.sql").write_text(GOLD)
    return Shop(root)


ShopFactory = Callable[[], Shop]
