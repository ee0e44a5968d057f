"""The demo's streaming part end to end (`afluente demo-stream` on the session broker): the
order events the checkout produced are in bronze exactly once, and the live gold table
equals a batch computation over them."""

from __future__ import annotations

import json
import signal
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.cli_inprocess import run_afluente

from afluente.model import TableRef

from .conftest import KafkaBroker
from .helpers import table

BRONZE = TableRef("bronze", "order_events")
GOLD = TableRef("gold", "revenue_by_state_minute")


def expected_gold(events: list[dict[str, Any]]) -> dict[tuple[str, datetime], tuple[int, Decimal]]:
    """Revenue per state and minute computed from the raw events in Python: the latest
    event of each order (by event time), canceled orders left out."""
    latest: dict[int, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: e["event_at"]):
        latest[int(event["order_id"])] = event
    cells: dict[tuple[str, datetime], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for order in latest.values():
        if order["status"] == "canceled":
            continue
        at = datetime.fromisoformat(order["ordered_at"]).astimezone(UTC)
        cell = cells[(order["uf"], at.replace(second=0, microsecond=0, tzinfo=None))]
        cell[0] += 1
        cell[1] += Decimal(order["amount"])
    return {key: (count, total) for key, (count, total) in cells.items()}


def test_order_events_drive_the_live_gold_table(tmp_path: Path,
                                                 kafka_broker: KafkaBroker) -> None:
    root = tmp_path / "live"
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        done = run_afluente(["--json", "demo-stream", "--dir", str(root), "--seconds", "2",
                             "--rate", "150", "--trigger", "0.5s",
                             "--bootstrap", kafka_broker.bootstrap])
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["events"] == payload["rows"] == 300
    assert payload["micro_batches"] >= 2 and payload["stopped"] is False

    bronze = table(root, BRONZE).to_pylist()
    assert len(bronze) == 300
    assert len({(r["_kafka_partition"], r["_kafka_offset"]) for r in bronze}) == 300
    assert all(r["_rescued_data"] is None for r in bronze)

    gold = {(r["uf"], r["minute"]): (r["orders"], r["revenue"])
            for r in table(root, GOLD).to_pylist()}
    expected = expected_gold(bronze)
    assert gold == expected
    assert sum(orders for orders, _ in gold.values()) > 200  # most orders are not canceled
