"""Read a batch of files of one format as one Arrow stream (source columns + `_source`).

Files are first staged locally when they need it (downloaded from object storage, transcoded
to UTF-8). Then each format goes to the reader that can do it without extension downloads:
DuckDB for csv/tsv (file by file, malformed lines rescued), json, ndjson and parquet;
Python for avro, orc and xlsx. `flatten` and progress reporting apply to every format. A
file that cannot be read at all is quarantined (`quarantine.py`) and the others are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from afluente.connectors.files.arrow_files import ArrowFiles
from afluente.connectors.files.config import TEXT_FORMATS, FilesSource
from afluente.connectors.files.delimited import DelimitedScan, name_by_prefix
from afluente.connectors.files.entry import FileEntry
from afluente.connectors.files.flatten import flattened
from afluente.connectors.files.quarantine import quarantine_sql
from afluente.connectors.files.staging import LocalFile, Staging
from afluente.connectors.protocol import IngestStats
from afluente.errors import ConnectorError, Location
from afluente.streams import ResultStream, SourceQuery, duckdb_connect, guarded, relation_reader

SOURCE = "_source"
Report = Callable[[IngestStats], None]
DUCKDB_FORMATS = ("json", "ndjson", "parquet")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ignore(stats: IngestStats) -> None:
    return None


@dataclass
class _Opened:
    """What reading a batch of files holds until its stream or query is closed."""

    staging: Staging
    connection: duckdb.DuckDBPyConnection
    files: list[LocalFile]

    def close(self) -> None:
        self.connection.close()
        self.staging.close()


class FileReader:
    """Reads matched files; text formats keep every value as text, exactly as in the file."""

    def __init__(self, name: str, config: FilesSource, root: Path, location: Location) -> None:
        self.name = name
        self.config = config
        self.root = root
        self.location = location
        self._names: dict[str, str] = {}  # staged path -> file name, to name files in errors
        self.delimited: DelimitedScan | None = None  # the csv/tsv scan, once made
        self.quarantined: dict[str, str] = {}  # other formats: file name -> reason

    def read(self, files: list[FileEntry], report: Report = _ignore) -> ResultStream:
        """The files as an Arrow stream (every format)."""
        opened = self._open(files)
        try:
            reader = self._scan(opened.files, opened.connection, opened.staging)
            if self.config.options.flatten:
                reader = flattened(reader)
        except Exception as exc:
            opened.close()
            raise self._error(exc) from None
        reader = reporting(reader, files, report)
        return guarded(reader, self._error, keepalive=opened, on_close=opened.close)

    def query(self, files: list[FileEntry], report: Report = _ignore) -> SourceQuery | None:
        """The files as DuckDB SQL, for the runtime to shape and write on this connection
        with DuckDB's parallelism; None for formats read in Python or flattened."""
        fmt = self.config.format
        if self.config.options.flatten or fmt not in (*TEXT_FORMATS, *DUCKDB_FORMATS):
            return None
        opened = self._open(files)
        try:
            then: tuple[Callable[[], str], ...] = ()
            if fmt in TEXT_FORMATS:
                main, rejected, _ = self._delimited(opened.staging).queries(
                    opened.files, opened.connection
                )
                then = (rejected,)
            else:
                main = self._duckdb_sql(opened.files, opened.connection)
        except Exception as exc:
            opened.close()
            raise self._error(exc) from None
        report(IngestStats(files=len(files), bytes=sum(f.size for f in files)))
        return SourceQuery(opened.connection, main, self._error, opened.close, then)

    def _open(self, files: list[FileEntry]) -> _Opened:
        """Local copies where needed, and a DuckDB connection to read them with."""
        staging = Staging(self.name, self.config, self.location)
        connection = duckdb_connect(":memory:")
        connection.execute("SET TimeZone = 'UTC'")
        opened = _Opened(staging, connection, [])
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

    def _scan(
        self, files: list[LocalFile], connection: duckdb.DuckDBPyConnection, staging: Staging
    ) -> pa.RecordBatchReader:
        fmt = self.config.format
        if fmt in TEXT_FORMATS:
            return self._delimited(staging).read(files, connection)
        if fmt in DUCKDB_FORMATS:
            return relation_reader(connection.sql(self._duckdb_sql(files, connection)))
        return ArrowFiles(self.config, self._file_error, self._reason, self.quarantined).read(
            files
        )

    def _duckdb_sql(self, files: list[LocalFile], connection: duckdb.DuckDBPyConnection) -> str:
        """The rows of the files DuckDB can read, then one row per quarantined file."""
        readable = [f for f in files if self._probe(f, connection)]
        if not self.quarantined:
            return self._scan_sql(readable, connection)
        quarantined = quarantine_sql(connection, self.quarantined)
        if not readable:
            return quarantined
        return f"{self._scan_sql(readable, connection)} UNION ALL BY NAME {quarantined}"

    def _probe(self, file: LocalFile, connection: duckdb.DuckDBPyConnection) -> bool:
        """Whether the file can be read at all (a parquet footer, json documents that
        parse); a file that cannot is quarantined."""
        try:
            if self.config.format == "parquet":
                pq.read_metadata(file.path)
            else:
                style = "newline_delimited" if self.config.format == "ndjson" else "auto"
                objects = f"read_json_objects({_literal(file.path)}, format = {_literal(style)})"
                connection.sql(f"SELECT count(*) FROM {objects}").fetchall()
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            self.quarantined[file.entry.name] = self._reason(file, exc)
            return False
        return True

    def _reason(self, file: LocalFile, exc: Exception) -> str:
        """Why `file` cannot be read, naming it as the project does."""
        return _detail(exc).replace(file.path, file.entry.name)

    def _scan_sql(self, files: list[LocalFile], connection: duckdb.DuckDBPyConnection) -> str:
        connection.execute("CREATE TEMP TABLE _afluente_files (path VARCHAR, name VARCHAR)")
        connection.executemany(
            "INSERT INTO _afluente_files VALUES (?, ?)", [(f.path, f.entry.name) for f in files]
        )
        scan = self._duckdb_function([f.path for f in files])
        described = connection.sql(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        columns = [self._column(row[0], row[1]) for row in described if row[0] != "filename"]
        named = name_by_prefix(files)
        if named is not None:
            return f"SELECT {', '.join([*columns, f'{named} AS {SOURCE}'])} FROM {scan} AS s"
        sql = (
            f"SELECT {', '.join([*columns, f'f.name AS {SOURCE}'])} "
            f"FROM {scan} AS s JOIN _afluente_files AS f ON f.path = s.filename"
        )
        return sql

    def _column(self, name: str, type_name: str) -> str:
        """A column of the scan as selected: a JSON field whose values have mixed types
        (DuckDB types it `JSON`) becomes each value's own text, `a` for `"a"` and `5` for
        `5`, objects and arrays as their JSON text."""
        column = f"s.{_ident(name)}"
        if self.config.format in ("json", "ndjson") and type_name == "JSON":
            return f"{column} ->> '$' AS {_ident(name)}"
        return column

    def _duckdb_function(self, paths: list[str]) -> str:
        listed = "[" + ", ".join(_literal(p) for p in paths) + "]"
        if self.config.format == "parquet":
            return f"read_parquet({listed}, union_by_name = true, filename = true)"
        style = "newline_delimited" if self.config.format == "ndjson" else "auto"
        return (
            f"read_json({listed}, format = {_literal(style)}, union_by_name = true, "
            "filename = true)"
        )

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
