"""Kafka messages as bronze rows: the value's fields plus where the message came from.

Every row carries `_kafka_topic`, `_kafka_partition`, `_kafka_offset`, `_kafka_key` (text),
`_kafka_timestamp` (UTC) and `_kafka_headers` (a JSON array of `[key, value]` pairs, as
headers may repeat). A decoded value (`values`) becomes columns (its fields, typed from the
batch; see `afluente.connectors.rest.to_arrow`); a value that does not decode keeps its raw
text and the reason in `_rescued_data`, so the message is in bronze with its partition and
offset and never dropped.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from afluente.connectors.kafka.values import Decoder, Undecodable
from afluente.connectors.protocol import RESCUED_COLUMN
from afluente.connectors.rest.to_arrow import infer_schema, to_batch

TOPIC, PARTITION, OFFSET = "_kafka_topic", "_kafka_partition", "_kafka_offset"
KEY, TIMESTAMP, HEADERS = "_kafka_key", "_kafka_timestamp", "_kafka_headers"
KAFKA_FIELDS = [
    pa.field(TOPIC, pa.string()),
    pa.field(PARTITION, pa.int32()),
    pa.field(OFFSET, pa.int64()),
    pa.field(KEY, pa.string()),
    pa.field(TIMESTAMP, pa.timestamp("ms", tz="UTC")),
    pa.field(HEADERS, pa.string()),
]


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", errors="replace")


def _decoded(raw: bytes | None, decoder: Decoder) -> tuple[dict[str, Any], str | None]:
    """The value's fields, or ({}, the reason it does not decode)."""
    if raw is None:
        return {}, None  # a tombstone: a key with no value
    try:
        return decoder(raw), None
    except Undecodable as exc:
        return {}, str(exc)


def _rescued(raw: bytes | None, reason: str) -> str:
    assert raw is not None
    try:
        kept: dict[str, str] = {"_raw": raw.decode("utf-8")}
    except UnicodeDecodeError:
        kept = {"_raw_base64": base64.b64encode(raw).decode("ascii")}
    return json.dumps({"_error": reason, **kept}, ensure_ascii=False)


def _headers(message: Any) -> str | None:
    headers = message.headers()
    if not headers:
        return None
    return json.dumps([[k, _text(v)] for k, v in headers], ensure_ascii=False)


def _timestamp(message: Any) -> datetime | None:
    kind, millis = message.timestamp()
    if kind == 0 or millis < 0:  # TIMESTAMP_NOT_AVAILABLE
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def to_record_batch(messages: Sequence[Any], decoder: Decoder) -> pa.RecordBatch:
    """One micro-batch of messages as Arrow: value columns, `_rescued_data`, `_source`,
    then the Kafka columns."""
    decoded = [_decoded(m.value(), decoder) for m in messages]
    values = [fields for fields, _ in decoded]
    sources = [f"kafka://{m.topic()}/{m.partition()}" for m in messages]
    schema = infer_schema(values)
    batch = to_batch(values, sources, schema)
    rescued = batch.column(RESCUED_COLUMN).to_pylist()
    for i, ((_, reason), message) in enumerate(zip(decoded, messages, strict=True)):
        if reason is not None:
            rescued[i] = _rescued(message.value(), reason)
    columns = [
        pa.array(rescued, pa.string()) if name == RESCUED_COLUMN else batch.column(name)
        for name in schema.names
    ]
    kafka = [
        pa.array([m.topic() for m in messages], pa.string()),
        pa.array([m.partition() for m in messages], pa.int32()),
        pa.array([m.offset() for m in messages], pa.int64()),
        pa.array([_text(m.key()) for m in messages], pa.string()),
        pa.array([_timestamp(m) for m in messages], pa.timestamp("ms", tz="UTC")),
        pa.array([_headers(m) for m in messages], pa.string()),
    ]
    return pa.RecordBatch.from_arrays(
        [*columns, *kafka], schema=pa.schema([*schema, *KAFKA_FIELDS])
    )
