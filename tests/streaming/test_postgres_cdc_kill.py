"""Exactly once for `type: postgres_cdc` under kill -9: a process killed during the initial
snapshot, processes killed right after the bronze commit and before the slot's confirmation
(the window where the slot lags bronze), and at random moments of a running stream; once
drained, bronze holds every change exactly once and the SCD2 table has exactly one version
per update.

The killed processes run `stream_project` (what `afluente stream` runs) in children of a
fork server that imported afluente once."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from afluente.config import load_project
from afluente.connectors.postgres_cdc.connector import position_app_id
from afluente.connectors.postgres_cdc.pgoutput import lsn_number
from afluente.runtime.stream import parse_trigger, stream_project
from afluente.transform.cdc import visible_scan

from .helpers import ok, run, table, version, warehouse
from .postgres_cdc import BRONZE, SILVER, Shop, make_project

AT_CONFIRM, AT_RANDOM = 3, 3
pytestmark = pytest.mark.slow


def _die(*args: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


def _stream(root: str, die_before_confirming: bool, die_in_snapshot: bool = False) -> None:
    """The killed process; with `die_before_confirming`, it kills itself with SIGKILL just
    after the bronze commit, where the slot would be confirmed; with `die_in_snapshot`,
    while it reads the initial snapshot (the slot made, nothing committed)."""
    from afluente.config import load_project
    from afluente.connectors.postgres_cdc import connector
    from afluente.runtime.stream import parse_trigger, stream_project

    if die_before_confirming:
        connector.confirm = _die
    if die_in_snapshot:
        connector.PostgresCdcConnector._snapshot_batches = _die
    trigger = "available-now" if die_before_confirming or die_in_snapshot else "0.05s"
    stream_project(load_project(Path(root)), parse_trigger(trigger))


def _fork_server() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([
        "afluente.runtime.stream", "afluente.runtime.executor", "afluente.runtime.openlineage",
        "afluente.runtime.model_engines", "afluente.runtime.staging_cleanup",
        "afluente.runtime.publish", "afluente.state", "afluente.state.locks",
        "afluente.state.store", "afluente.observability", "afluente.engines.duckdb_engine",
        "afluente.connectors.postgres_cdc.connector", "psycopg",
    ])
    return context


def position(root: Path) -> int:
    found = warehouse(root).transaction_version(BRONZE, position_app_id("shop"))
    assert found is not None
    return found


def _change(shop: Shop, round_: int) -> list[tuple[str, int, str]]:
    shop.sql(f"UPDATE customers SET city = 'r{round_}' WHERE id = 1",
             f"INSERT INTO customers VALUES ({100 + round_}, 'n{round_}', 'x')")
    return [("update", 1, f"r{round_}"), ("insert", 100 + round_, "x")]


def test_kill_9_between_commit_and_confirmation_loses_and_repeats_nothing(
    tmp_path: Path, shop: Shop
) -> None:
    root = make_project(tmp_path / "p", shop.url)
    context = _fork_server()
    process = context.Process(target=_stream, args=(str(root), False, True))
    process.start()
    process.join()
    assert process.exitcode == -signal.SIGKILL
    assert version(root, BRONZE) is None and shop.confirmed_lsn() is not None
    ok(run(root))  # a new snapshot, with a new slot
    expected: list[tuple[str, int, str]] = []
    for round_ in range(AT_CONFIRM):
        expected += _change(shop, round_)
        held, before = position(root), version(root, BRONZE)
        process = context.Process(target=_stream, args=(str(root), True))
        process.start()
        process.join()
        assert process.exitcode == -signal.SIGKILL
        # committed with its LSN; the slot only moved up to what bronze held before
        assert version(root, BRONZE) == (before or 0) + 1 and position(root) > held
        assert lsn_number(str(shop.confirmed_lsn())) == held
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    for round_ in range(AT_CONFIRM, AT_CONFIRM + AT_RANDOM):
        expected += _change(shop, round_)
        process = context.Process(target=_stream, args=(str(root), False))
        process.start()
        process.join(rng.uniform(0.3, 1.5))  # a micro-batch takes ~0.5-1 s here
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
        process.join()
    stream_project(load_project(root), parse_trigger("available-now"))

    changes = [(r["_op"], r["id"], r["city"]) for r in table(root, BRONZE).to_pylist()
               if r["_op"] != "snapshot" and r["_table"] == "public.customers"]
    assert Counter(changes) == Counter(expected), f"seed {seed}"
    dataset = warehouse(root).dataset(SILVER)
    columns, visible = visible_scan(dataset.schema)
    versions = dataset.to_table(columns=columns, filter=visible).to_pylist()
    first = sorted((v["valid_from"], v["city"], v["is_current"]) for v in versions
                   if v["id"] == 1)
    last = AT_CONFIRM + AT_RANDOM - 1
    assert [(c, cur) for _, c, cur in first] == [
        ("Recife", False), *((f"r{i}", i == last) for i in range(last + 1))], f"seed {seed}"
    assert sorted(v["id"] for v in versions if v["is_current"]) == [
        1, 2, *range(100, 100 + last + 1)], f"seed {seed}"
