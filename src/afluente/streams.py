"""Arrow result streams shared by engines, connectors and storage.

A producer (an engine running a query, a connector reading files) hands its output to the
Delta writer as a record batch reader. When the producer fails half-way, the writer only sees
a generic stream error; `ResultStream.failure` keeps the producer's own, clearer error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a stream is built: `query "select 1"` needs no Arrow
    import pyarrow as pa

BATCH_ROWS = 1_000_000


@dataclass
class ResultStream:
    """Output as a stream of Arrow batches, plus the producer's error if it failed."""

    reader: pa.RecordBatchReader
    failure: list[BaseException] = field(default_factory=list)
    keepalive: Any = None


def guarded(
    reader: pa.RecordBatchReader,
    translate: Callable[[Exception], BaseException | None],
    keepalive: Any = None,
    on_close: Callable[[], None] | None = None,
) -> ResultStream:
    """Wrap `reader` so an error it raises is translated and kept on the stream;
    `on_close` runs once the stream is exhausted, failed or dropped."""
    import pyarrow as pa

    stream = ResultStream(reader=reader, keepalive=keepalive)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except Exception as exc:
            error = translate(exc)
            if error is None:
                raise
            stream.failure.append(error)
            raise error from None
        finally:
            if on_close is not None:
                on_close()

    stream.reader = pa.RecordBatchReader.from_batches(reader.schema, batches())
    return stream


@dataclass
class SourceQuery:
    """A source DuckDB can read itself: SQL on a connection the connector opened.

    The runtime then shapes and writes the rows on that same connection, so DuckDB's
    parallel readers feed its parallel Parquet writer with no Arrow hand-off in between.
    `then` gives SQL for rows only known once the main query has run (the lines a CSV
    reader rejected), with the same columns. `translate` turns a DuckDB error into the
    connector's own; `close` releases the connection.
    """

    connection: Any
    sql: str
    translate: Callable[[Exception], BaseException]
    close: Callable[[], None]
    then: tuple[Callable[[], str], ...] = ()
