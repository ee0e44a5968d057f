"""The connector protocol: how a source is checked, read and how its progress is kept.

A connector reads one declared source and hands back an `Ingestion`: an Arrow stream of the
source's columns plus `_source` (the file, table or endpoint each row came from), what to do
with the bronze table (`append`, or `overwrite` for a full reload), and the progress to record
(files seen, a cursor watermark...). The runtime stamps the bronze metadata columns, applies
the source's schema policy and writes the rows *and* the progress in one Delta commit, so a
crash can neither lose nor duplicate a batch. The next run gets the recorded progress back
in `IngestContext.history`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from afluente.config import SourceBase
from afluente.errors import ConnectorError, Location
from afluente.streams import ResultStream, SourceQuery

if TYPE_CHECKING:
    import pyarrow as pa

SOURCE_COLUMN = "_source"
RESCUED_COLUMN = "_rescued_data"

WriteMode = Literal["append", "overwrite"]


@dataclass(frozen=True)
class IngestStats:
    """Work done so far, for progress bars: files, rows and bytes read."""

    files: int = 0
    rows: int = 0
    bytes: int = 0


def _ignore(stats: IngestStats) -> None:
    return None


@dataclass(frozen=True)
class ScanFile:
    """A file for the engine to read: its local path, and its name in `_source`."""

    path: str
    name: str


@dataclass(frozen=True)
class CsvFile(ScanFile):
    """A csv/tsv file with its column names (never empty) and the blank lines before them."""

    header: tuple[str, ...] = ()
    skip: int = 0


@dataclass(frozen=True)
class CsvDialect:
    """How delimited text is written; `encoding` is the one the engine reads (utf-8 once
    the connector transcoded the files)."""

    delimiter: str
    quote: str
    escape: str
    encoding: str
    header: bool


class FileScan(Protocol):
    """One batch of files read by the engine (one connection); `close` releases it.

    The connector prepares the files (staged copies, csv headers, files quarantined
    already); the scan gives their rows as a `SourceQuery`, which the runtime shapes and
    writes on the same connection, or as Arrow through `stream`.
    """

    def unreadable_json(self, path: str, newline_delimited: bool) -> Exception | None:
        """Why the engine cannot parse the file's JSON documents, or None when it can."""

    def delimited(
        self,
        files: Sequence[CsvFile],
        columns: Sequence[str],
        dialect: CsvDialect,
        quarantined: Mapping[str, str],
    ) -> SourceQuery:
        """csv/tsv rows: `columns` (the union of the headers, every value as text),
        `_source` and `_rescued_data`; once they have run, a follow-up gives the lines the
        engine rejected (`{"_source", "_line", "_error", "_raw"}`) and the `quarantined`
        files (file name -> reason; `{"_source", "_error"}`)."""

    def documents(
        self,
        fmt: Literal["json", "ndjson", "parquet"],
        files: Sequence[ScanFile],
        quarantined: Mapping[str, str],
    ) -> SourceQuery:
        """The readable files' rows (`union_by_name`, `_source`), then one row per
        quarantined file; a JSON field of mixed types lands as each value's text."""

    def document_columns(
        self, fmt: Literal["json", "ndjson", "parquet"], paths: Sequence[str]
    ) -> dict[str, str]:
        """Column -> engine type of the data columns `documents` would give these files,
        read from parquet footers and the engine's JSON type sample, not from every row."""

    def stream(self, query: SourceQuery, rows: int) -> pa.RecordBatchReader:
        """A query of this scan as Arrow batches of up to `rows`, follow-ups last."""

    def close(self) -> None:
        """Release the connection (and whatever `open` was given to close with it)."""


class FileScanner(Protocol):
    """How the run's engine reads files for connectors (DuckDB's is
    `afluente.engines.duckdb_files.DuckDBFileScanner`); the runtime hands it over in
    `IngestContext.scanner`, so no connector imports an engine."""

    def open(
        self, translate: Callable[[Exception], BaseException], on_close: Callable[[], None]
    ) -> FileScan:
        """A scan for one batch; `translate` names the engine's errors as the connector's,
        `on_close` runs when the scan is closed."""

    def typed_csv(
        self,
        path: str,
        label: str,
        delimiter: str,
        text_columns: Sequence[str],
        translate: Callable[[Exception], BaseException],
    ) -> SourceQuery:
        """One CSV file with a header, each column of the type the engine infers from every
        row (`text_columns` as text), `_source` = `label`."""


@dataclass(frozen=True)
class IngestContext:
    """What a connector gets to read a source.

    `history` is the progress recorded by every commit since the bronze table was last
    overwritten, newest first (empty on the first run and after `--full-refresh`).
    `report` takes cumulative `IngestStats` for the progress bar. `scanner` is the engine's
    file reader, for connectors that read files.
    """

    run_id: str
    ingested_at: datetime
    history: Sequence[Mapping[str, Any]] = ()
    full_refresh: bool = False
    report: Callable[[IngestStats], None] = _ignore
    scanner: FileScanner | None = None

    def file_scanner(self, source: str, location: Location) -> FileScanner:
        """The engine's file reader; an error naming `source` when none was given."""
        if self.scanner is None:
            raise ConnectorError(
                f"source `{source}`: no engine was given to read its files with "
                "(`IngestContext.scanner` is not set)",
                location=location,
                hint="run the source with `afluente run`, or pass the engine's file scanner, "
                "e.g. `IngestContext(..., scanner=DuckDBFileScanner())` from "
                "`afluente.engines.duckdb_files`",
            )
        return self.scanner

    @property
    def progress(self) -> Mapping[str, Any]:
        """The newest recorded progress ({} when none)."""
        return self.history[0] if self.history else {}


@dataclass
class Ingestion:
    """One batch of a source, to be written to bronze in one commit.

    `stream` yields the source's columns and `_source` (or `query` gives them as DuckDB SQL,
    the faster path for what DuckDB reads itself); a connector that found a record it
    could not parse may also yield `_rescued_data` (JSON text) for it rather than drop it.
    `replace_sources` (append mode) are `_source` values whose earlier rows this batch
    replaces in the same commit (a file that changed). `progress` (JSON-serialisable) is stored
    in the same commit; a callable is called once the stream has been consumed.
    `decimal_comma`: text numbers use `,` for decimals (and `.` for thousands).
    `on_committed` runs once the commit holding the rows and the progress is done (a stream
    tells its broker how far bronze got, for lag monitoring); then `measured`, when given,
    says how the stream stands (JSON: lag per partition, the newest message's time), which
    goes into the commit's event.
    """

    stream: ResultStream | None = None
    mode: WriteMode = "append"
    progress: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)
    replace_sources: tuple[str, ...] = ()
    summary: str = ""
    decimal_comma: bool = False
    query: SourceQuery | None = None
    on_committed: Callable[[], None] | None = None
    measured: Callable[[], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if (self.stream is None) == (self.query is None):
            raise TypeError("an Ingestion needs exactly one of `stream` and `query`")

    @property
    def progress_known(self) -> bool:
        """False when the progress depends on the rows (a cursor's maximum): the runtime
        then spools the batch before committing, to record both in one commit."""
        return isinstance(self.progress, dict)

    def final_progress(self) -> dict[str, Any]:
        return self.progress if isinstance(self.progress, dict) else self.progress()


@dataclass(frozen=True)
class SourceCheck:
    """A cheap look at the source for `afluente plan`.

    `signature`: equal signatures mean the same data (None: cannot tell without reading).
    `pending`: how many units (files, ...) are new (None: unknown, read to find out).
    """

    signature: str | None = None
    pending: int | None = None
    detail: str = ""
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"signature": self.signature}
        if self.pending is not None:
            found["pending"] = self.pending
        if self.detail:
            found["detail"] = self.detail
        if self.error:
            found["error"] = self.error
        return found


class Connector(Protocol):
    """Reads one declared source as Arrow."""

    def check(self, history: Sequence[Mapping[str, Any]]) -> SourceCheck:
        """What a run would find, given the recorded progress (newest first)."""

    def read(self, context: IngestContext) -> Ingestion | None:
        """The next batch of the source, or None when there is nothing new."""


class ConnectorFactory(Protocol):
    """A connector class: its config model, and a constructor taking the validated config."""

    config_model: type[SourceBase]

    def __call__(
        self, name: str, config: Any, root: Path, location: Location
    ) -> Connector: ...
