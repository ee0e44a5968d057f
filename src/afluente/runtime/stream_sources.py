"""Which sources are streams: what `afluente stream` runs by default, and what a
micro-batch reads without looking first."""

from __future__ import annotations

STREAMING_TYPES = ("kafka", "postgres_cdc")


def is_streaming(source: object) -> bool:
    """A Kafka topic, a PostgreSQL change stream, or files with `stream: true`."""
    return getattr(source, "type", None) in STREAMING_TYPES or getattr(source, "stream", False)
