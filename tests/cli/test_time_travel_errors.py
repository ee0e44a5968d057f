"""`afluente show --version/--as-of` refuses what does not exist, naming what does."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import StorageError
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse

ORDERS = TableRef("silver", "orders")


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_afluente(["-p", str(root), *args])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter project, run twice: silver.orders has versions 0 and 1."""
    root = tmp_path_factory.mktemp("travel") / "shop"
    scaffold(root)
    assert run_project(load_project(root)).status == "success"
    (root / "landing" / "orders_2.csv").write_text(
        "order_id;customer_id;amount;ordered_at\n14;2;10,00;2026-03-01\n"
    )
    assert run_project(load_project(root), full_refresh=True).status == "success"
    return root


def test_a_negative_version_is_refused_with_the_latest_one(built: Path) -> None:
    shown = afluente(built, "show", "silver.orders", "--version", "-1")

    assert shown.returncode == 1
    assert "Traceback" not in shown.stderr
    assert "`silver.orders` has no version -1 (versions start at 0); its latest version is 1" \
        in shown.stderr
    assert "hint: pick a version from 0 to 1; `afluente history silver.orders`" in shown.stderr


def test_a_version_past_the_latest_names_the_latest(built: Path) -> None:
    shown = afluente(built, "show", "silver.orders", "--version", "7")

    assert shown.returncode == 1
    assert "`silver.orders` has no version 7 (no such version was ever written); " \
        "its latest version is 1" in shown.stderr


def test_as_of_before_the_table_existed_is_refused(built: Path) -> None:
    warehouse = Warehouse(load_project(built).warehouse_uri)
    first = min(warehouse.history(ORDERS), key=lambda c: c.version)

    shown = afluente(built, "show", "silver.orders", "--as-of", "2020-01-01")

    assert shown.returncode == 1
    created = f"{first.timestamp:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"
    assert ("`silver.orders` did not exist as of 2020-01-01T00:00:00+00:00: its oldest "
            f"version (0) was written at {created}") in shown.stderr
    assert f"hint: use --as-of {created} or later" in shown.stderr
    # the moment the hint proposes is accepted, and shows that first version
    assert warehouse.open(ORDERS, as_of=created).version() == 0


def test_as_of_after_the_last_commit_is_the_latest_version(built: Path) -> None:
    warehouse = Warehouse(load_project(built).warehouse_uri)
    assert warehouse.open(ORDERS, as_of=datetime.now(UTC)).version() == 1


def test_a_load_error_without_time_travel_says_no_as_of(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    assert run_project(load_project(root), "+silver.orders").status == "success"
    log = root / "warehouse" / "silver" / "orders" / "_delta_log" / "00000000000000000000.json"
    log.write_text("not json\n", encoding="utf-8")

    with pytest.raises(StorageError) as caught:
        Warehouse(load_project(root).warehouse_uri).open(ORDERS)

    # the damaged log is named (storage/damage.py); no "as of None" for a plain load
    assert caught.value.message.startswith("table `silver.orders` is damaged: ")
    assert "00000000000000000000.json is not valid JSON" in caught.value.message
    assert "as of None" not in caught.value.render()
