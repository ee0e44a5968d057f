"""The incremental cursor: the watermark sent to the API and the records it lets through.

The watermark is the largest `cursor_field` value ingested so far, recorded with the rows
in the same Delta commit. Many APIs answer `updated_since=W` inclusively, so records whose
cursor equals W come back on the next run: the commit also records a hash of each record at
the watermark (`boundary`), and those are skipped — a record changed at the same instant has a
different hash and is kept. Records older than the watermark are skipped too (an API that
ignores the parameter still ingests incrementally). A record without the cursor field is
kept: dropping it could lose data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from afluente.connectors.rest.body import MISSING, value_at
from afluente.connectors.rest.config import Incremental


def cursor_key(value: Any) -> tuple[int, Any]:
    """An ordering key: numbers by value, ISO-8601 timestamps as instants, other text as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    text = str(value)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return (2, text)
    return (1, when if when.tzinfo else when.replace(tzinfo=UTC))


def record_hash(record: Mapping[str, Any]) -> str:
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Watermark:
    """The recorded watermark and the one this run is building."""

    def __init__(self, config: Incremental, history: Sequence[Mapping[str, Any]]) -> None:
        self.config = config
        recorded = next((p for p in history if "watermark" in p), None)
        self.start: Any = recorded["watermark"] if recorded else config.initial
        self.start_boundary = set(recorded.get("boundary", ())) if recorded else set()
        self.high: Any = self.start
        self.boundary = set(self.start_boundary)

    def params(self) -> dict[str, Any]:
        return {} if self.start is None else {self.config.param: self.start}

    def admit(self, record: Mapping[str, Any]) -> bool:
        """Whether `record` is new; a new record moves the watermark."""
        value = value_at(record, self.config.cursor_field)
        if value is MISSING or value is None:
            return True
        if self.start is not None:
            against = cursor_key(value), cursor_key(self.start)
            if against[0] < against[1]:
                return False
            if against[0] == against[1] and record_hash(record) in self.start_boundary:
                return False
        self._raise_to(value, record)
        return True

    def _raise_to(self, value: Any, record: Mapping[str, Any]) -> None:
        if self.high is None or cursor_key(value) > cursor_key(self.high):
            self.high, self.boundary = value, set()
        if cursor_key(value) == cursor_key(self.high):
            self.boundary.add(record_hash(record))

    def progress(self) -> dict[str, Any]:
        return {
            "watermark": self.high,
            "boundary": sorted(self.boundary),
            "cursor_field": self.config.cursor_field,
        }
