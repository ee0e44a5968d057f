"""The sink protocol: how a gold table's rows reach a data mart, exactly once per version.

The runtime hands a sink one :class:`TableData` per table: the Delta version being published,
its Arrow schema and a function that streams its record batches (called again on a retry,
so a sink never holds a whole table in memory). The sink remembers, in the target itself and
in the same transaction as the data, which version it last published, so a re-run skips it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from afluente.errors import AfluenteError, Location
from afluente.model import TableRef
from afluente.sinks.config import SinkBase, TableOptions

if TYPE_CHECKING:
    import pyarrow as pa

PublishStatus = Literal["published", "up_to_date", "failed"]


@dataclass(frozen=True)
class SinkTable:
    """A table a sink publishes: the gold table, its options and its name in the sink."""

    ref: TableRef
    options: TableOptions
    location: Location

    @property
    def target(self) -> str:
        return self.options.name or self.ref.name


@dataclass(frozen=True)
class TableData:
    """One version of a table, streamed: `batches()` starts a fresh scan each call."""

    ref: TableRef
    version: int
    schema: pa.Schema
    batches: Callable[[], Iterator[pa.RecordBatch]]


@dataclass(frozen=True)
class PublishOutcome:
    """What publishing one table did (or why it failed)."""

    sink: str
    table: str
    target: str
    status: PublishStatus
    mode: str
    version: int | None = None
    rows: int | None = None
    duration_s: float = 0.0
    error: AfluenteError | None = None


class Sink(Protocol):
    """A connection to one declared sink; `close()` releases it."""

    name: str

    def publish(
        self, table: SinkTable, data: TableData, *, run_id: str, force: bool = False
    ) -> PublishOutcome:
        """Publish `data` atomically, or report it `up_to_date` when this version already
        is (unless `force`). Raises a SinkError when it fails, leaving the target as it was."""
        ...

    def close(self) -> None: ...


class SinkFactory(Protocol):
    """A sink class: its config model, and a constructor from the validated config."""

    config_model: type[SinkBase]

    def __call__(self, name: str, config: SinkBase, location: Location) -> Sink: ...
