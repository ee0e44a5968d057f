"""Order events for the demo's streaming part: what the shop's checkout would put on a topic.

Each event is a JSON object: an order placed (`status: created`) in a state (`uf`, weighted
like the batch demo's customers), paid through a channel, with its amount as text and the
time it happened. Some orders are sent again later with a new status (`approved` or
`canceled`), so the silver table keeps the latest version of each order and the gold
revenue leaves the canceled ones out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from afluente.demo import vocab

RESEND_SHARE = 0.1  # of the events: a status change of an order sent before
CANCEL_SHARE = 0.3  # of the status changes


def _state_weights() -> tuple[list[str], np.ndarray]:
    states = [uf for _, uf, _ in vocab.CITIES]
    weights = np.asarray(vocab.CITY_WEIGHTS, dtype=float)
    return states, weights / weights.sum()


class OrderEvents:
    """Order events one at a time, deterministic for a seed (times are given by the caller)."""

    def __init__(self, seed: int = 42, first_order: int = 1) -> None:
        self.rng = np.random.default_rng(seed)
        self.states, self.weights = _state_weights()
        self.next_order = first_order
        self.sent: list[dict[str, Any]] = []  # orders that may be re-sent
        self.last_at = datetime.min.replace(tzinfo=UTC)

    def next_event(self, at: datetime) -> dict[str, Any]:
        """The next event, happening at `at` (UTC) or, when that is not later than the
        previous event, a millisecond after it: event times are unique and increasing, so
        the latest version of an order is well defined."""
        at = max(at.astimezone(UTC), self.last_at + timedelta(milliseconds=1))
        self.last_at = at
        if self.sent and self.rng.random() < RESEND_SHARE:
            return self._status_change(at)
        order = {
            "order_id": self.next_order,
            "customer_id": int(self.rng.integers(1, 20_000)),
            "uf": self.states[int(self.rng.choice(len(self.states), p=self.weights))],
            "channel": vocab.ORDER_CHANNELS[int(self.rng.integers(len(vocab.ORDER_CHANNELS)))],
            "status": "created",
            "amount": f"{int(self.rng.integers(1_990, 150_000)) / 100:.2f}",
            "ordered_at": _iso(at),
            "event_at": _iso(at),
        }
        self.next_order += 1
        self.sent.append(order)
        if len(self.sent) > 500:
            self.sent = self.sent[-250:]
        return order

    def _status_change(self, at: datetime) -> dict[str, Any]:
        order = self.sent.pop(int(self.rng.integers(len(self.sent))))
        status = "canceled" if self.rng.random() < CANCEL_SHARE else "approved"
        return {**order, "status": status, "event_at": _iso(at)}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")
