"""Read a batch of files of one format as one Arrow stream (source columns + `_source`).

Files are first staged locally when they need it (downloaded from object storage, transcoded
to UTF-8). Then each format goes to the reader that can do it without extension downloads:
the engine's file scanner (`FileScanner`, given by the runtime) for csv/tsv (malformed lines
rescued), json, ndjson and parquet; Python for avro, orc and xlsx. `flatten` and progress
reporting apply to every format. A file that cannot be read at all is quarantined
(`quarantine.py`) and the others are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from afluente.connectors.files.arrow_files import ArrowFiles
from afluente.connectors.files.config import TEXT_FORMATS, FilesSource
from afluente.connectors.files.delimited import DelimitedScan
from afluente.connectors.files.entry import FileEntry
from afluente.connectors.files.flatten import flattened
from afluente.connectors.files.staging import LocalFile, Staging
from afluente.connectors.protocol import FileScan, FileScanner, IngestStats, ScanFile
from afluente.errors import ConnectorError, Location
from afluente.streams import BATCH_ROWS, ResultStream, SourceQuery, guarded

SOURCE = "_source"
Report = Callable[[IngestStats], None]
DocumentFormat = Literal["json", "ndjson", "parquet"]
DOCUMENT_FORMATS: tuple[DocumentFormat, ...] = ("json", "ndjson", "parquet")


def _ignore(stats: IngestStats) -> None:
    return None


@dataclass
class _Opened:
    """What reading a batch of files holds until its stream or query is closed: the
    engine's scan, which closes the staged copies with it."""

    scan: FileScan
    staging: Staging
    files: list[LocalFile]

    def close(self) -> None:
        self.scan.close()


class FileReader:
    """Reads matched files; text formats keep every value as text, exactly as in the file."""

    def __init__(
        self,
        name: str,
        config: FilesSource,
        root: Path,
        location: Location,
        scanner: FileScanner,
    ) -> None:
        self.name = name
        self.config = config
        self.root = root
        self.location = location
        self.scanner = scanner
        self._names: dict[str, str] = {}  # staged path -> file name, to name files in errors
        self.delimited: DelimitedScan | None = None  # the csv/tsv scan, once made
        self.quarantined: dict[str, str] = {}  # other formats: file name -> reason

    def read(self, files: list[FileEntry], report: Report = _ignore) -> ResultStream:
        """The files as an Arrow stream (every format)."""
        opened = self._open(files)
        try:
            reader = self._scan(opened)
            if self.config.options.flatten:
                reader = flattened(reader)
        except Exception as exc:
            opened.close()
            raise self._error(exc) from None
        reader = reporting(reader, files, report)
        return guarded(reader, self._error, keepalive=opened, on_close=opened.close)

    def query(self, files: list[FileEntry], report: Report = _ignore) -> SourceQuery | None:
        """The files as the engine's query, for the runtime to shape and write on the scan's
        connection with the engine's parallelism; None for formats read in Python or
        flattened."""
        fmt = self.config.format
        if self.config.options.flatten or fmt not in (*TEXT_FORMATS, *DOCUMENT_FORMATS):
            return None
        opened = self._open(files)
        try:
            if fmt in TEXT_FORMATS:
                query, _ = self._delimited(opened.staging).query(opened.files, opened.scan)
            else:
                query = self._documents(opened.files, opened.scan)
        except Exception as exc:
            opened.close()
            raise self._error(exc) from None
        report(IngestStats(files=len(files), bytes=sum(f.size for f in files)))
        return query

    def document_columns(self, files: list[FileEntry]) -> dict[str, str] | None:
        """The data columns (engine types) reading json, ndjson or parquet `files` gives,
        told from parquet footers and the engine's JSON type sample, the way `read` types
        them; None when no file is readable (the ingest quarantines those)."""
        fmt = self.config.format
        assert fmt in DOCUMENT_FORMATS
        opened = self._open(files)
        try:
            readable = [f.path for f in opened.files if self._probe(f, opened.scan)]
            return opened.scan.document_columns(fmt, readable) if readable else None
        except Exception as exc:
            raise self._error(exc) from None
        finally:
            opened.close()

    def _open(self, files: list[FileEntry]) -> _Opened:
        """Local copies where needed, and the engine's scan to read them with."""
        staging = Staging(self.name, self.config, self.location)
        opened = _Opened(self.scanner.open(self._error, staging.close), staging, [])
        try:
            opened.files = staging.stage(files)
        except Exception as exc:
            opened.close()
            raise self._error(exc) from None
        self._names = {f.path: f.entry.name for f in opened.files}
        return opened

    def _delimited(self, staging: Staging) -> DelimitedScan:
        fmt = self.config.format
        delimiter = "\t" if fmt == "tsv" else self.config.options.delimiter
        self.delimited = DelimitedScan(
            self.name, self.config.options, delimiter, staging.encoding, self.location,
            staging.folder,
        )
        return self.delimited

    def findings(self) -> dict[str, dict[str, Any]]:
        """What reading the batch found besides rows, for the progress record: blank lines
        skipped and files quarantined, by file (only those that have some)."""
        blank: dict[str, int] = {}
        quarantined = dict(self.quarantined)
        if self.delimited is not None:
            blank = {name: n for name, n in self.delimited.blank_lines.items() if n}
            quarantined.update(self.delimited.quarantined)
        found: dict[str, dict[str, Any]] = {"blank_lines": blank, "quarantined": quarantined}
        return {key: value for key, value in found.items() if value}

    def _scan(self, opened: _Opened) -> pa.RecordBatchReader:
        fmt = self.config.format
        if fmt in TEXT_FORMATS:
            return self._delimited(opened.staging).read(opened.files, opened.scan)
        if fmt in DOCUMENT_FORMATS:
            query = self._documents(opened.files, opened.scan)
            return opened.scan.stream(query, BATCH_ROWS)
        return ArrowFiles(self.config, self._file_error, self._reason, self.quarantined).read(
            opened.files
        )

    def _documents(self, files: list[LocalFile], scan: FileScan) -> SourceQuery:
        """The rows of the files the engine can read, then one row per quarantined file."""
        fmt = self.config.format
        assert fmt in DOCUMENT_FORMATS
        readable = [f for f in files if self._probe(f, scan)]
        return scan.documents(
            fmt, [ScanFile(f.path, f.entry.name) for f in readable], self.quarantined
        )

    def _probe(self, file: LocalFile, scan: FileScan) -> bool:
        """Whether the file can be read at all (a parquet footer, json documents that
        parse); a file that cannot is quarantined."""
        problem: Exception | None = None
        if self.config.format == "parquet":
            try:
                pq.read_metadata(file.path)
            except (pa.ArrowException, OSError) as exc:
                problem = exc
        else:
            problem = scan.unreadable_json(file.path, self.config.format == "ndjson")
        if problem is not None:
            self.quarantined[file.entry.name] = self._reason(file, problem)
            return False
        return True

    def _reason(self, file: LocalFile, exc: Exception) -> str:
        """Why `file` cannot be read, naming it as the project does."""
        return _detail(exc).replace(file.path, file.entry.name)

    def _file_error(self, file: LocalFile, exc: Exception) -> ConnectorError:
        if isinstance(exc, ConnectorError):
            return exc
        return self._named_error(file.entry.name, _detail(exc))

    def _error(self, exc: Exception) -> ConnectorError:
        if isinstance(exc, ConnectorError):
            return exc
        detail = _detail(exc)
        for path, name in sorted(self._names.items(), key=lambda item: -len(item[0])):
            detail = detail.replace(path, name)
        named = [n for n in self._names.values() if n in detail]
        if named:
            return self._named_error(named[0], detail)
        if len(self._names) == 1:
            return self._named_error(next(iter(self._names.values())), detail)
        return ConnectorError(
            f"source `{self.name}`: cannot read {self.config.format} files: {detail}",
            location=self.location,
            hint=_RETRY_HINT,
        )

    def _named_error(self, file: str, detail: str) -> ConnectorError:
        return ConnectorError(
            f"source `{self.name}`: cannot read {self.config.format} file `{file}`: {detail}",
            location=self.location,
            hint=_RETRY_HINT,
        )


_RETRY_HINT = (
    "fix or remove the file, or the source's `format`/`options`; nothing was written and "
    "the files will be read again on the next run"
)


def _detail(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = " ".join(lines[:3]) or type(exc).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def reporting(
    reader: pa.RecordBatchReader, files: list[FileEntry], report: Report
) -> pa.RecordBatchReader:
    """`reader`, reporting cumulative files and bytes as rows of each file come through
    (and the full batch at the end, counting files that had no rows)."""
    sizes = {f.name: f.size for f in files}

    def batches() -> Iterator[pa.RecordBatch]:
        seen: set[str] = set()
        for batch in reader:
            names = set(pc.unique(batch.column(SOURCE)).to_pylist()) - seen - {None}
            if names:
                seen.update(str(n) for n in names)
                report(IngestStats(files=len(seen), bytes=sum(sizes.get(n, 0) for n in seen)))
            yield batch
        report(IngestStats(files=len(files), bytes=sum(sizes.values())))

    return pa.RecordBatchReader.from_batches(reader.schema, batches())
