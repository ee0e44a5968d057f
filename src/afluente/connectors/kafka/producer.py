"""Writing JSON messages to a topic: what the demo's checkout does (and the streaming
benchmarks). Delivery is idempotent; `flush` waits until the broker has every message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from afluente.connectors.kafka.client import admin_client, kafka_module
from afluente.errors import ConnectorError


class JsonProducer:
    """Messages (a JSON object each, an optional key) to topics of one broker."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.kafka = kafka_module()
        self.producer = self.kafka.Producer({
            "bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
        })

    def create_topic(self, topic: str, partitions: int = 3) -> None:
        """Create `topic` unless it exists."""
        from confluent_kafka.admin import NewTopic

        admin = admin_client(self.bootstrap)
        if topic in admin.list_topics(timeout=10).topics:
            return
        new = NewTopic(topic, partitions, 1)
        for future in admin.create_topics([new]).values():
            try:
                future.result(timeout=10)
            except self.kafka.KafkaException as exc:
                raise ConnectorError(
                    f"cannot create topic `{topic}` on {self.bootstrap}: {exc}") from exc

    def send(self, topic: str, value: Mapping[str, Any], key: str | None = None) -> None:
        raw = json.dumps(value, separators=(",", ":")).encode()
        while True:
            try:
                self.producer.produce(topic, value=raw, key=key)
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                self.producer.poll(0.1)
        self.producer.poll(0)

    def flush(self, timeout: float = 30.0) -> None:
        remaining = int(self.producer.flush(timeout))
        if remaining:
            raise ConnectorError(
                f"{remaining} messages were not delivered to {self.bootstrap} in {timeout:g} s",
                hint="check that the broker runs and its log",
            )
