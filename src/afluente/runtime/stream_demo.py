"""The demo's streaming part: a checkout thread puts order events on the topic `orders` at
a steady rate while `stream_project` keeps bronze -> silver -> gold a micro-batch behind it;
when the checkout stops, the stream drains what is left (available-now) and stops too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from afluente.config import Project, load_project
from afluente.connectors.kafka.producer import JsonProducer
from afluente.demo.build import STREAM_TOPIC, copy_stream_project
from afluente.demo.order_events import OrderEvents
from afluente.errors import DemoError
from afluente.runtime.results import RunResult
from afluente.runtime.stream import AVAILABLE_NOW, parse_trigger, stream_project

TICK = 0.05  # seconds between two sends of the checkout


@dataclass(frozen=True)
class LiveDemoResult:
    events: int  # events the checkout produced
    batches: int
    rows: int  # rows bronze ingested (equal to `events` when nothing was stopped early)
    stopped: bool  # stopped by a signal before the checkout finished


class Checkout(threading.Thread):
    """Produces `rate` order events a second for `seconds`, or until `stop`; then flushes
    and sets `finished`."""

    def __init__(self, producer: JsonProducer, rate: float, seconds: float, seed: int,
                 stop: threading.Event) -> None:
        super().__init__(name="afluente-demo-checkout", daemon=True)
        self.producer, self.rate, self.seconds = producer, rate, seconds
        self.events = OrderEvents(seed)
        self.stop, self.finished = stop, threading.Event()
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            started = time.monotonic()
            while not self.stop.is_set():
                elapsed = min(time.monotonic() - started, self.seconds)
                due = int(self.rate * elapsed)
                while self.sent < due:
                    event = self.events.next_event(datetime.now(UTC))
                    self.producer.send(STREAM_TOPIC, event, key=str(event["order_id"]))
                    self.sent += 1
                if elapsed >= self.seconds:
                    break
                self.stop.wait(TICK)
            self.producer.flush()
        except BaseException as exc:  # reported by the caller after the stream stops
            self.error = exc
        finally:
            self.finished.set()


def prepare_stream_demo(root: Path, bootstrap: str) -> Project:
    """Write the streaming project into `root` (reading topic `orders` on `bootstrap`) and
    create the topic unless it exists."""
    copy_stream_project(root, bootstrap)
    JsonProducer(bootstrap).create_topic(STREAM_TOPIC)
    return load_project(root)


def run_stream_demo(
    project: Project,
    bootstrap: str,
    *,
    seconds: float = 20.0,
    rate: float = 200.0,
    trigger: str = "1s",
    seed: int = 42,
    stop: threading.Event | None = None,
    on_batch: Callable[[int, RunResult], None] | None = None,
) -> LiveDemoResult:
    """Produce for `seconds` at `rate` events a second while streaming `project` (from
    `prepare_stream_demo`) at `trigger`; then drain and return. `stop` (SIGTERM) ends both
    early."""
    if seconds <= 0 or rate <= 0:
        raise DemoError(f"--seconds and --rate must be positive (got {seconds:g}, {rate:g})")
    producer = JsonProducer(bootstrap)
    stop = stop or threading.Event()
    checkout = Checkout(producer, rate, seconds, seed, stop)
    checkout.start()
    # the live part ends when the checkout does (it stops early on `stop`, within a tick)
    try:
        first = stream_project(project, parse_trigger(trigger), stop=checkout.finished,
                               on_batch=on_batch)
    except BaseException:
        stop.set()  # the checkout stops producing too
        raise
    checkout.join()
    if checkout.error is not None:
        raise DemoError(f"the demo's checkout stopped producing: {checkout.error}") \
            from checkout.error
    if stop.is_set():
        return LiveDemoResult(checkout.sent, first.batches, first.rows, True)

    def numbered(number: int, result: RunResult) -> None:
        if on_batch is not None:
            on_batch(first.batches + number, result)

    rest = stream_project(project, parse_trigger(AVAILABLE_NOW), on_batch=numbered)
    return LiveDemoResult(checkout.sent, first.batches + rest.batches,
                          first.rows + rest.rows, False)

