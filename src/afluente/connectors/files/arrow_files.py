"""Formats read to Arrow in Python, file by file: avro, orc and xlsx.

Each file's schema is read first (cheap: a header or a footer); the stream's schema is their
union, and each batch is conformed to it (missing columns null, types widened) before it
gets its `_source`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa
import pyarrow.orc as orc

from afluente.connectors.files.avro import avro_batches, avro_schema
from afluente.connectors.files.config import FilesSource
from afluente.connectors.files.excel import sheet_batches, sheet_columns
from afluente.connectors.files.quarantine import quarantine_batch
from afluente.connectors.files.staging import LocalFile

SOURCE = "_source"
RESCUED = "_rescued_data"

FileFailure = Callable[[LocalFile, Exception], Exception]


def orc_batches(path: str) -> Iterator[pa.RecordBatch]:
    file = orc.ORCFile(path)
    for stripe in range(file.nstripes):
        yield from pa.Table.from_batches([file.read_stripe(stripe)]).to_batches()


class ArrowFiles:
    """Reads staged avro/orc/xlsx files as one stream; `failed` names the file in errors. A
    file whose schema cannot be read (not avro/orc, a missing sheet) is quarantined: added to
    `quarantined` with its `reason`, and one row for it follows the other files' rows."""

    def __init__(
        self,
        config: FilesSource,
        failed: FileFailure,
        reason: Callable[[LocalFile, Exception], str],
        quarantined: dict[str, str],
    ) -> None:
        self.config = config
        self.failed = failed
        self.reason = reason
        self.quarantined = quarantined

    def read(self, files: list[LocalFile]) -> pa.RecordBatchReader:
        schemas = {f.path: s for f in files if (s := self._schema_of(f)) is not None}
        readable = [f for f in files if f.path in schemas]
        try:
            unified = pa.unify_schemas(list(schemas.values()), promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            if not schemas:  # every file quarantined
                unified = pa.schema([])
            else:
                raise self.failed(readable[0], exc) from None
        schema = unified.append(pa.field(SOURCE, pa.string()))
        if self.quarantined:
            schema = schema.append(pa.field(RESCUED, pa.string()))
        return pa.RecordBatchReader.from_batches(schema, self._batches(readable, schema))

    def schema(self, path: str) -> pa.Schema:
        fmt, o = self.config.format, self.config.options
        if fmt == "avro":
            return avro_schema(path)
        if fmt == "orc":
            return orc.ORCFile(path).schema
        return pa.schema([(c, pa.string()) for c in sheet_columns(path, o.sheet, o.header)])

    def batches(self, path: str) -> Iterator[pa.RecordBatch]:
        fmt, o = self.config.format, self.config.options
        if fmt == "avro":
            return avro_batches(path)
        if fmt == "orc":
            return orc_batches(path)
        return sheet_batches(path, o.sheet, o.header)

    def _schema_of(self, file: LocalFile) -> pa.Schema | None:
        try:
            return self.schema(file.path)
        except Exception as exc:
            self.quarantined[file.entry.name] = self.reason(file, exc)
            return None

    def _batches(self, files: list[LocalFile], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        for file in files:
            try:
                for batch in self.batches(file.path):
                    yield conform(batch, schema, file.entry.name)
            except Exception as exc:
                raise self.failed(file, exc) from None
        for name, reason in self.quarantined.items():
            yield quarantine_batch(schema, name, reason)


def conform(batch: pa.RecordBatch, schema: pa.Schema, source: str) -> pa.RecordBatch:
    """`batch` with `schema`'s columns: missing ones null, others cast; `_source` set."""
    arrays: list[pa.Array] = []
    for field in schema:
        if field.name == SOURCE:
            arrays.append(pa.array([source] * batch.num_rows, pa.string()))
        elif field.name in batch.schema.names:
            column = batch.column(field.name)
            arrays.append(column if column.type == field.type else column.cast(field.type))
        else:
            arrays.append(pa.nulls(batch.num_rows, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
