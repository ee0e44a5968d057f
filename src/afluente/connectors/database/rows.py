"""Stream a query's rows as Arrow record batches with bounded memory (connectorx), cast to
the types the dialect chose, with `_source` added."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa

from afluente.connectors.database.dialect import Projection


def normalised(kind: pa.DataType) -> pa.DataType:
    """A type Delta and DuckDB both take: no large_* or unsigned types, UTC timestamps."""
    if pa.types.is_large_string(kind):
        return pa.string()
    if pa.types.is_large_binary(kind):
        return pa.binary()
    if pa.types.is_large_list(kind) or pa.types.is_list(kind):
        return pa.list_(normalised(kind.value_type))
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return pa.timestamp(kind.unit, tz="UTC")
    return _WIDER.get(kind, kind)


_WIDER: dict[pa.DataType, pa.DataType] = {
    pa.uint8(): pa.int16(),
    pa.uint16(): pa.int32(),
    pa.uint32(): pa.int64(),
    pa.uint64(): pa.decimal128(20, 0),
}


def target_schema(read: pa.Schema, projections: Sequence[Projection]) -> pa.Schema:
    chosen = {p.name: p.arrow for p in projections}
    fields = [
        pa.field(f.name, chosen.get(f.name) or normalised(f.type), nullable=True) for f in read
    ]
    return pa.schema(fields)


def shaped(
    reader: pa.RecordBatchReader,
    projections: Sequence[Projection],
    source: str,
) -> pa.RecordBatchReader:
    """`reader`'s batches cast to the chosen types, plus `_source`."""
    schema = target_schema(reader.schema, projections)
    out = schema.append(pa.field("_source", pa.string()))

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in _without_panics(reader):
            if batch.num_rows == 0:
                continue
            columns = [
                batch.column(i).cast(field.type) for i, field in enumerate(schema)
            ]
            label = pa.nulls(batch.num_rows, pa.string()).fill_null(source)
            yield pa.RecordBatch.from_arrays([*columns, label], schema=out)

    return pa.RecordBatchReader.from_batches(out, batches())


class ReaderPanic(RuntimeError):
    """The reader (Rust) aborted, e.g. on a value it cannot convert."""


def _without_panics(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """connectorx raises pyo3's PanicException, a BaseException: make it an ordinary error
    so it is reported like any other read failure."""
    try:
        yield from reader
    except Exception:
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise ReaderPanic(str(exc)) from None
