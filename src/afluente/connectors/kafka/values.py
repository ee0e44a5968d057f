"""How a message's value becomes fields: JSON objects, text, or Avro records with a declared
schema (Confluent's framing — a zero byte and a 4-byte schema id — first, or none).

A decoder returns the fields or raises `Undecodable` with the reason; the caller keeps the
raw bytes and the reason in `_rescued_data`.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from afluente.connectors.kafka.config import KafkaSource
from afluente.errors import ConfigError, Location

VALUE = "value"  # the column of a `format: text` source
CONFLUENT_MAGIC = 0

Decoder = Callable[[bytes], dict[str, Any]]


class Undecodable(Exception):
    """A value that does not decode; the message says why."""


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Undecodable(f"value is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def decode_text(raw: bytes) -> dict[str, Any]:
    return {VALUE: _text(raw)}


def decode_json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(_text(raw))
    except json.JSONDecodeError as exc:
        raise Undecodable(f"value is not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, dict):
        raise Undecodable(f"value is JSON {type(value).__name__}, not an object")
    return value


def _plain(value: Any) -> Any:
    """An Avro value as JSON-like Python (bronze types it like JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def avro_decoder(schema: Any, framing: str) -> Decoder:
    import fastavro

    def decode(raw: bytes) -> dict[str, Any]:
        body = raw
        if framing == "confluent":
            if len(raw) < 5 or raw[0] != CONFLUENT_MAGIC:
                raise Undecodable("value has no Confluent Avro header (a zero byte and a "
                                  "schema id); set `avro_framing: none` for bare Avro")
            body = raw[5:]
        buffer = io.BytesIO(body)
        try:
            record = fastavro.schemaless_reader(buffer, schema, None)
        except Exception as exc:  # fastavro raises many types on truncated/garbled input
            raise Undecodable(f"value does not decode with the declared Avro schema "
                              f"({type(exc).__name__}: {exc})") from None
        if buffer.tell() != len(body):
            raise Undecodable(f"value does not decode with the declared Avro schema "
                              f"({len(body) - buffer.tell()} bytes left over)")
        return plain_record(record, "the declared Avro schema")

    return decode


def plain_record(record: Any, schema: str) -> dict[str, Any]:
    """A decoded Avro record as JSON-like fields."""
    if not isinstance(record, dict):
        raise Undecodable(f"{schema} is not a record")
    return dict(_plain(record))


def load_avro_schema(name: str, config: KafkaSource, root: Path, location: Location) -> Any:
    import fastavro

    declared: Any = config.avro_schema
    where = "`avro_schema`"
    try:
        if isinstance(declared, str):
            path = root / declared
            where = str(path)
            declared = json.loads(path.read_text(encoding="utf-8"))
        return fastavro.parse_schema(declared)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"source `{name}`: the Avro schema in {where} is not usable: {exc}",
            location=location,
            hint="give `avro_schema` as a path to an .avsc file (relative to the project) or "
            "as the schema itself (a record type)",
        ) from exc


def decoder_for(name: str, config: KafkaSource, root: Path, location: Location) -> Decoder:
    if config.format == "text":
        return decode_text
    if config.format == "avro" and config.schema_registry is not None:
        from afluente.connectors.kafka.registry import RegistryDecoder

        registry = config.schema_registry
        reader = (None if config.avro_schema is None
                  else load_avro_schema(name, config, root, location))
        return RegistryDecoder(name, registry.url, registry.httpx_auth(), registry.timeout,
                               reader, location)
    if config.format == "avro":
        return avro_decoder(load_avro_schema(name, config, root, location), config.avro_framing)
    return decode_json
