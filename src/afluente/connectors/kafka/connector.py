"""The Kafka connector: the next micro-batch of messages after the offsets bronze holds.

Each read assigns every partition of the source's topics at the offset recorded in bronze's
newest commit (never the broker's committed offsets), takes up to `max_records` messages and
hands them over with the new offsets as progress. The runtime writes rows and offsets in one
Delta commit (the offsets also as one app transaction per partition), so a process killed at
any moment resumes exactly after the last committed message. Afterwards the offsets are
committed to the broker too, only so that its lag tools see how far bronze is.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from afluente.connectors.kafka.client import KafkaClient
from afluente.connectors.kafka.config import KafkaSource
from afluente.connectors.kafka.records import to_record_batch
from afluente.connectors.kafka.values import decoder_for
from afluente.connectors.protocol import IngestContext, Ingestion, IngestStats, SourceCheck
from afluente.errors import ConnectorError, Location
from afluente.streams import ResultStream

Position = tuple[str, int]  # (topic, partition)
FETCH = 5_000  # messages asked of the client per poll
# the longest one poll waits: the client returns early only with FETCH messages, so a
# longer wait would hold a micro-batch whose partitions are all at their end already
POLL_STEP = 0.02


def position_app_id(source: str, topic: str, partition: int) -> str:
    """The Delta app-transaction id holding a partition's next offset in bronze."""
    return f"afluente:kafka:{source}:{topic}:{partition}"


def recorded_offsets(progress: Mapping[str, Any]) -> dict[Position, int]:
    """The next offset per partition that a commit's progress records."""
    return {
        (topic, int(partition)): int(offset)
        for topic, partitions in (progress.get("kafka") or {}).items()
        for partition, offset in partitions.items()
    }


def _progress(source: str, offsets: dict[Position, int]) -> dict[str, Any]:
    by_topic: dict[str, dict[str, int]] = {}
    for (topic, partition), offset in sorted(offsets.items()):
        by_topic.setdefault(topic, {})[str(partition)] = offset
    return {
        "kafka": by_topic,
        "complete": True,  # every partition's offset: older commits add nothing
        # the storage keeps these as Delta app transactions in the same commit
        "transactions": {position_app_id(source, t, p): o for (t, p), o in offsets.items()},
    }


def _measured(lag: dict[Position, int], newest_ms: int | None) -> dict[str, Any]:
    """How the stream stands after a micro-batch's commit: messages still on the broker
    per partition (`topic/partition`), and the newest message's timestamp (UTC, ISO)."""
    newest = None if newest_ms is None else (
        datetime.fromtimestamp(newest_ms / 1000, UTC).isoformat(timespec="milliseconds"))
    return {
        "lag": {f"{topic}/{partition}": n for (topic, partition), n in sorted(lag.items())},
        "lag_total": sum(lag.values()),
        "newest_message_at": newest,
    }


class Budget:
    """`max_bytes` of keys and values per micro-batch (None: no limit). A message that would
    pass it is not taken, so each partition's messages taken are a prefix of those fetched
    and the next micro-batch, starting at the offsets committed, reads it first."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self.spent = False

    def take(self, message: Any, first: bool) -> bool:
        """Count `message` in if it fits (the first message always does)."""
        if self.limit is None:
            return True
        size = len(message.value() or b"") + len(message.key() or b"")
        if self.used + size > self.limit and not first:
            self.spent = True
            return False
        self.used += size
        self.spent = self.used >= self.limit
        return True


class KafkaConnector:
    """Messages of Kafka topics, one micro-batch per read."""

    config_model = KafkaSource

    def __init__(self, name: str, config: KafkaSource, root: Path, location: Location) -> None:
        self.name = name
        self.config = config
        self.location = location
        self.decode = decoder_for(name, config, root, location)

    def check(self, history: Sequence[Mapping[str, Any]]) -> SourceCheck:
        client = KafkaClient(self.name, self.config, self.location)
        try:
            partitions = client.partitions()
        except ConnectorError as exc:
            return SourceCheck(error=exc.message)
        finally:
            client.close()
        count = sum(len(p) for p in partitions.values())
        return SourceCheck(detail=f"{len(partitions)} topics, {count} partitions")

    def read(self, context: IngestContext) -> Ingestion | None:
        client = KafkaClient(self.name, self.config, self.location)
        try:
            done = {} if context.full_refresh else recorded_offsets(context.progress)
            partitions = client.partitions()
            starts = {(t, p): done.get((t, p)) for t, ps in partitions.items() for p in ps}
            client.assign(starts)
            messages = self._poll(client, context, set(starts))
            # a schema registry that cannot be reached stops the micro-batch here
            batch = to_record_batch(messages, self.decode) if messages else None
        except BaseException:
            client.close()
            raise
        if batch is None:
            client.close()
            return None
        offsets = {**done}
        for message in messages:
            offsets[(message.topic(), message.partition())] = message.offset() + 1
        stamps = (m.timestamp() for m in messages)
        newest = max((ms for kind, ms in stamps if kind and ms >= 0), default=None)
        lag: dict[Position, int] = {}

        def committed() -> None:
            try:
                lag.update(client.lag({**starts, **offsets}))
                client.commit(offsets)
            finally:
                client.close()

        def measured() -> dict[str, Any]:
            return _measured(lag, newest)

        return Ingestion(
            stream=ResultStream(pa.RecordBatchReader.from_batches(batch.schema, [batch])),
            progress=_progress(self.name, offsets),
            summary=f"{len(messages)} messages from {len(partitions)} topics",
            on_committed=committed,
            measured=measured,
        )

    def _poll(self, client: KafkaClient, context: IngestContext,
              partitions: set[Position]) -> list[Any]:
        """Up to `max_records` messages: until every partition is at its end, or
        `poll_timeout` seconds after the broker first answered (a partition that keeps
        trickling), or, when it never answers, `connect_timeout`."""
        found: list[Any] = []
        at_end: set[Position] = set()
        limit, patience = self.config.max_records, self.config.poll_timeout
        budget = Budget(self.config.max_bytes)
        deadline = time.monotonic() + self.config.connect_timeout
        answered = False
        while len(found) < limit and not budget.spent and not partitions <= at_end:
            now = time.monotonic()
            if now >= deadline:
                break
            got = client.poll(min(FETCH, limit - len(found)),
                              min(POLL_STEP, patience, deadline - now))
            for message in got:
                position = (message.topic(), message.partition())
                if message.error() is None:
                    if not budget.take(message, first=not found):
                        break  # the rest is read again by the next micro-batch
                    found.append(message)
                    at_end.discard(position)
                elif message.error().code() == client.partition_eof:
                    at_end.add(position)
                else:
                    raise self._failure(message)
            if got and not answered:
                answered, deadline = True, time.monotonic() + patience
            context.report(IngestStats(rows=len(found)))
        return found

    def _failure(self, message: Any) -> ConnectorError:
        error = message.error()
        where = f"topic `{message.topic()}` partition {message.partition()}"
        if error.code() == client_offset_reset_code():
            return ConnectorError(
                f"source `{self.name}`: the offset bronze resumes from on {where} is no longer "
                f"on the broker ({error.str()}): the messages between it and the partition's "
                "oldest retained offset may be missing",
                location=self.location,
                hint="nothing was skipped; backfill bronze from a snapshot of the topic's data, "
                "then restart with `--full-refresh` or a larger topic retention",
            )
        return ConnectorError(
            f"source `{self.name}`: reading {where} failed: {error.str()}",
            location=self.location,
            hint="see the broker's log; the stream resumes from bronze's offsets when restarted",
        )


def client_offset_reset_code() -> int:
    from afluente.connectors.kafka.client import kafka_module

    return int(kafka_module().KafkaError._AUTO_OFFSET_RESET)
