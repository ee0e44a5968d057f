"""The bundled demo is monitored: after one build, `afluente health` reports the five pillars
of every table it wrote, with the freshness SLAs the demo declares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.runtime import run_project

PILLARS = ["freshness", "volume", "schema", "distribution", "lineage"]
DAY = 86400.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo_health")
    prepare_demo(root, orders=200, seed=3)
    result = run_project(load_project(root))
    assert result.status == "success", [m.reason for m in result.failed]
    return root


def health(demo: Path, *args: str) -> dict[str, dict[str, object]]:
    done = run_afluente(["-p", str(demo), "--json", "health", *args])
    assert done.returncode == 0, done.stderr
    return {t["table"]: t for t in json.loads(done.stdout)["tables"]}


def test_every_demo_table_has_the_five_pillars(demo: Path) -> None:
    tables = health(demo)
    built = {f"{p.parent.name}.{p.name}" for p in (demo / "warehouse").glob("*/*")
             if not p.name.endswith("__quarantine")  # rejects beside a table, not models
             and not p.parent.name.startswith("_")}  # afluente's own: `_environments`
    assert built <= set(tables)
    assert {"bronze.orders", "silver.orders", "gold.revenue_by_state_month"} <= set(tables)
    for name, table in tables.items():
        pillars = table["pillars"]
        assert isinstance(pillars, dict) and list(pillars) == PILLARS, name
        # one healthy build: no incident, every monitor that has data says ok
        assert {pillars[p] for p in PILLARS[1:]} == {"ok"}, (name, pillars)
        assert table["runs"] == 1 and table["incidents"] == []


def test_demo_freshness_slas_are_reported_and_met(demo: Path) -> None:
    tables = health(demo)
    daily = {"warn_after_s": DAY, "error_after_s": 2 * DAY}
    for name in ("bronze.orders", "bronze.payments", "gold.revenue_by_state_month"):
        assert tables[name]["freshness_sla"] == daily, name
        assert tables[name]["pillars"]["freshness"] == "ok"  # type: ignore[index]
        lag = tables[name]["freshness_lag_s"]
        assert isinstance(lag, float) and 0 <= lag < DAY
    assert tables["bronze.products"]["freshness_sla"] == {
        "warn_after_s": 7 * DAY, "error_after_s": 14 * DAY,
    }
    # no SLA declared: nothing says how fresh it must be, so it is not called fresh
    assert tables["silver.orders"]["freshness_sla"] is None
    assert tables["silver.orders"]["pillars"]["freshness"] == "unknown"  # type: ignore[index]


def test_selector_limits_the_tables(demo: Path) -> None:
    assert list(health(demo, "gold.revenue_by_state_month")) == ["gold.revenue_by_state_month"]
