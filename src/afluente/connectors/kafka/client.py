"""The Kafka client, imported lazily (`pip install 'afluente[kafka]'`), and its errors
translated into afluente's: an unreachable broker names its address, a missing topic names
the topics that do exist."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from afluente.connectors.kafka.config import KafkaSource
from afluente.errors import ConnectorError, Location, TransientConnectorError

INSTALL_HINT = "pip install 'afluente[kafka]'"
LOGGER = logging.getLogger("afluente.kafka")


def kafka_module() -> Any:
    try:
        import confluent_kafka
    except ImportError as exc:
        raise ConnectorError(
            "reading a `type: kafka` source needs the confluent-kafka package",
            hint=INSTALL_HINT,
        ) from exc
    return confluent_kafka


def admin_client(bootstrap: str) -> Any:
    """An admin client of the broker at `bootstrap` (topics, metadata)."""
    kafka_module()
    from confluent_kafka.admin import AdminClient

    settings: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": LOGGER}
    return AdminClient(settings)


def consumer_settings(name: str, config: KafkaSource) -> dict[str, Any]:
    """The client settings: afluente's defaults, then the source's `options` on top."""
    timeout_ms = int(config.connect_timeout * 1000)
    return {
        "bootstrap.servers": config.bootstrap_servers,
        "group.id": config.group_id or f"afluente-{name}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "error",  # never skip: a retention gap stops the stream
        "socket.timeout.ms": max(timeout_ms, 1500),
        "fetch.wait.max.ms": 10,
        "enable.partition.eof": True,  # how a micro-batch knows it has read everything
        "logger": LOGGER,
        **config.options,
    }


class KafkaClient:
    """One consumer for one source, with assignment by partition (no group rebalance)."""

    def __init__(self, name: str, config: KafkaSource, location: Location) -> None:
        self.name = name
        self.config = config
        self.location = location
        self.kafka = kafka_module()
        self.consumer = self.kafka.Consumer(consumer_settings(name, config))
        self.partition_eof = int(self.kafka.KafkaError._PARTITION_EOF)

    def partitions(self) -> dict[str, list[int]]:
        """Every partition of the source's topics; errors name the broker or the topic."""
        metadata = self._metadata()
        existing = {t: m for t, m in metadata.topics.items() if not t.startswith("__")}
        if self.config.pattern is not None:
            regex = re.compile(self.config.pattern)
            chosen = sorted(t for t in existing if regex.fullmatch(t))
            if not chosen:
                raise self._missing(f"no topic matches pattern `{self.config.pattern}`", existing)
        else:
            chosen = list(self.config.topics)
            for topic in chosen:
                if topic not in existing or existing[topic].error is not None:
                    raise self._missing(f"topic `{topic}` does not exist", existing)
        return {t: sorted(existing[t].partitions) for t in chosen}

    def _metadata(self) -> Any:
        try:
            return self.consumer.list_topics(timeout=self.config.connect_timeout)
        except self.kafka.KafkaException as exc:
            raise TransientConnectorError(
                f"source `{self.name}`: cannot reach the Kafka broker at "
                f"{self.config.bootstrap_servers} within {self.config.connect_timeout:g} s "
                f"({exc.args[0].str() if exc.args else exc})",
                location=self.location,
                hint="check `bootstrap_servers`, that the broker runs and that this machine "
                "can reach it (TLS/SASL settings go in `options`)",
            ) from exc

    def _missing(self, what: str, existing: Iterable[str]) -> ConnectorError:
        names = ", ".join(sorted(existing)) or "none"
        return ConnectorError(
            f"source `{self.name}`: {what} on {self.config.bootstrap_servers} "
            f"(existing topics: {names})",
            location=self.location,
            hint="fix `topics`/`pattern`, or create the topic on the broker",
        )

    def assign(self, starts: dict[tuple[str, int], int | None]) -> None:
        """Read each partition from its offset (None: its first retained message)."""
        part = self.kafka.TopicPartition
        default = self.kafka.OFFSET_BEGINNING
        self.consumer.assign([
            part(topic, partition, default if offset is None else offset)
            for (topic, partition), offset in sorted(starts.items())
        ])

    def poll(self, limit: int, timeout: float) -> list[Any]:
        return list(self.consumer.consume(num_messages=limit, timeout=timeout))

    def lag(self, offsets: dict[tuple[str, int], int | None]) -> dict[tuple[str, int], int]:
        """Messages each partition holds beyond its next offset in `offsets` (None: nothing
        read yet, so from its oldest retained message), from the end offsets the client saw
        in its last fetch; a partition it has not fetched is asked (one round trip)."""
        part = self.kafka.TopicPartition
        lag: dict[tuple[str, int], int] = {}
        for (topic, partition), offset in offsets.items():
            low, high = self.consumer.get_watermark_offsets(part(topic, partition),
                                                            cached=True)
            if high < 0 or (offset is None and low < 0):
                try:
                    low, high = self.consumer.get_watermark_offsets(
                        part(topic, partition), timeout=self.config.connect_timeout)
                except self.kafka.KafkaException:
                    continue  # unknown: left out rather than guessed
            lag[(topic, partition)] = max(int(high) - (low if offset is None else offset), 0)
        return lag

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """Tell the broker how far bronze got (for lag monitoring only); best effort."""
        if not offsets:
            return
        part = self.kafka.TopicPartition
        try:
            self.consumer.commit(
                offsets=[part(t, p, o) for (t, p), o in sorted(offsets.items())],
                asynchronous=False,
            )
        except self.kafka.KafkaException as exc:
            LOGGER.warning("source %s: committing offsets to the broker failed: %s",
                           self.name, exc)

    def close(self) -> None:
        self.consumer.close()
