"""Ingest one source into its bronze table: read, shape, write rows and progress together.

The connector's progress (files seen, a cursor's watermark) is stored in the same Delta
commit as the rows, so a crash before the commit leaves both as they were and the next run
reads the same batch again; a crash after it finds the batch recorded. Nothing is lost and
nothing is ingested twice.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from afluente.config import Project
from afluente.connectors import IngestContext, Ingestion, IngestStats, connector_for, source_config
from afluente.engines.bronze import SOURCE, BronzeRules, BronzeShaper, delta_ready
from afluente.engines.duckdb_files import DuckDBFileScanner
from afluente.model import Node, TableRef
from afluente.storage import StagedFiles, Warehouse, WriteResult
from afluente.streams import ResultStream, SourceQuery


@dataclass(frozen=True)
class IngestRequest:
    project: Project
    node: Node
    warehouse: Warehouse
    run_id: str
    started_at: datetime
    fingerprint: str
    full_refresh: bool = False
    report: Callable[[IngestStats], None] | None = None


@dataclass(frozen=True)
class IngestOutcome:
    """What an ingestion did: the write (None when the source had nothing new)."""

    written: WriteResult | None
    summary: str = ""
    progress: dict[str, object] | None = None
    stream: dict[str, object] | None = None  # a streaming source's lag and newest message


def ingest(request: IngestRequest, on_stream: Callable[[ResultStream], None]) -> IngestOutcome:
    """Read the source's next batch and commit it. `on_stream` gets the stream written, so
    the caller can report the producer's own error when the write fails."""
    node, warehouse = request.node, request.warehouse
    assert node.source_name is not None
    project = request.project
    config = source_config(project, node.source_name)
    connector = connector_for(project, node.source_name)
    history = [] if request.full_refresh else warehouse.progress_history(node.ref)
    context = IngestContext(
        run_id=request.run_id,
        ingested_at=request.started_at,
        history=history,
        full_refresh=request.full_refresh,
        report=request.report or (lambda stats: None),
        scanner=DuckDBFileScanner(),
    )
    ingestion = connector.read(context)
    if ingestion is None:
        return IngestOutcome(None, "nothing new")
    overwrite = ingestion.mode == "overwrite" or request.full_refresh
    rules = BronzeRules(
        source=node.source_name,
        location=node.location,
        run_id=request.run_id,
        ingested_at=request.started_at,
        hints=config.columns,
        policy=config.schema_evolution,
        existing=None if overwrite else clear_schema(warehouse, node.ref),
        decimal_comma=ingestion.decimal_comma,
    )
    source: ResultStream | SourceQuery
    if ingestion.query is not None:
        source = ingestion.query
    else:
        assert ingestion.stream is not None
        ingestion.stream.reader = _counting(ingestion.stream.reader, context)
        source = ingestion.stream
    shaper = BronzeShaper(source, rules)
    replace_where = None if overwrite else _replace_where(ingestion)
    sealed = warehouse.encryptor is not None and warehouse.encryptor.columns(
        request.node.ref, shaper.columns)  # encrypted columns: never staged in clear
    if warehouse.is_local and replace_where is None and delta_ready(shaper.types) \
            and not sealed:
        written = _write_staged(request, ingestion, shaper, overwrite)
    else:
        written = _write_stream(request, ingestion, shaper, overwrite, replace_where, on_stream)
    if ingestion.on_committed is not None:
        ingestion.on_committed()
    measured = ingestion.measured() if ingestion.measured is not None else None
    return IngestOutcome(written, ingestion.summary, ingestion.final_progress(), measured)


def _write_staged(
    request: IngestRequest, ingestion: Ingestion, shaper: BronzeShaper, overwrite: bool
) -> WriteResult:
    """The fast path: DuckDB writes the shaped rows as Parquet in parallel, then one commit
    adds the files and the progress (known now, even when it depends on the rows)."""
    ref = request.node.ref
    directory = request.warehouse.staging_dir(ref, request.run_id)
    try:
        files, rows = shaper.write_parquet(directory)
        return request.warehouse.commit_staged(
            ref,
            StagedFiles(directory, tuple(files), rows),
            run_id=request.run_id,
            fingerprint=request.fingerprint,
            inputs={"source": request.node.source_name},
            mode="overwrite" if overwrite else "append",
            progress=ingestion.final_progress(),
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _write_stream(
    request: IngestRequest,
    ingestion: Ingestion,
    shaper: BronzeShaper,
    overwrite: bool,
    replace_where: str | None,
    on_stream: Callable[[ResultStream], None],
) -> WriteResult:
    """The Delta writer path (object storage, nested types, replacing a changed file's
    rows); rows are spooled first when the progress depends on them."""
    ref = request.node.ref
    stream = shaper.stream_out()
    on_stream(stream)
    spool = None
    if not ingestion.progress_known:
        spool = request.warehouse.staging_dir(ref, request.run_id)
        stream.reader = _spooled(stream.reader, spool)
    try:
        return request.warehouse.append(
            ref,
            stream.reader,
            run_id=request.run_id,
            fingerprint=request.fingerprint,
            inputs={"source": request.node.source_name},
            progress=ingestion.final_progress(),
            overwrite=overwrite,
            replace_where=replace_where,
        )
    finally:
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)


def _replace_where(ingestion: Ingestion) -> str | None:
    if not ingestion.replace_sources:
        return None
    values = ", ".join("'" + s.replace("'", "''") + "'" for s in ingestion.replace_sources)
    return f"{SOURCE} IN ({values})"


def _counting(reader: pa.RecordBatchReader, context: IngestContext) -> pa.RecordBatchReader:
    def batches() -> Iterator[pa.RecordBatch]:
        rows = 0
        for batch in reader:
            rows += batch.num_rows
            context.report(IngestStats(rows=rows))
            yield batch

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _spooled(reader: pa.RecordBatchReader, folder: object) -> pa.RecordBatchReader:
    """Write the whole stream to local Parquet first (bounded memory), then read it back:
    the progress is only known once every row has been read."""
    path = f"{folder}/spool.parquet"
    with pq.ParquetWriter(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
    return pads.dataset(path).scanner().to_reader()


def clear_schema(warehouse: Warehouse, ref: TableRef) -> pa.Schema | None:
    """The bronze table's schema as its rows arrive: an encrypted column is text, not the
    binary of its ciphertext (incoming values are cast to the stored types)."""
    schema = warehouse.schema(ref)
    encryptor = warehouse.encryptor
    if schema is None or encryptor is None:
        return schema
    for name in encryptor.columns(ref, schema.names):
        if pa.types.is_binary(schema.field(name).type):
            schema = schema.set(schema.get_field_index(name), pa.field(name, pa.string()))
    return schema
