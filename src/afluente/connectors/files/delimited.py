"""Delimited text (csv, tsv) read file by file, with malformed lines rescued, never dropped.

DuckDB's reject tables record each line it cannot parse (wrong number of fields, an
unterminated quote, bad bytes); they do not work with `union_by_name`, so each file is
scanned on its own against the union of all headers, which Python's csv module reads
first (a UTF-8 BOM never reaches a column name). Every column is text. Once the good rows
have streamed through, the rejected lines follow as final batches: data columns null,
`_rescued_data` = `{"_source", "_line", "_error", "_raw"}`.

Before that, each file is surveyed (`line_endings`): a file with mixed line endings is read
from an LF copy, blank lines are counted, and a file that cannot be read at all (its first
line cannot be parsed or decoded, the file cannot be opened) is quarantined: it lands as
one row naming it and the reason, `{"_source", "_error"}`, and the other files land.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa

from afluente.connectors.files.config import FileOptions
from afluente.connectors.files.encodings import python_codec
from afluente.connectors.files.line_endings import Dialect, survey
from afluente.connectors.files.quarantine import quarantine_sql
from afluente.connectors.files.staging import LocalFile
from afluente.errors import Location
from afluente.streams import relation_reader

RESCUED = "_rescued_data"
SOURCE = "_source"
BATCH_ROWS = 100_000


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DelimitedScan:
    """Reads staged csv/tsv files through one DuckDB connection."""

    def __init__(
        self,
        source: str,
        options: FileOptions,
        delimiter: str,
        encoding: str,
        location: Location | None,
        scratch: Callable[[], Path],
    ) -> None:
        self.source = source
        self.location = location
        self.options = options
        self.delimiter = delimiter
        self.encoding = encoding  # what DuckDB reads: utf-8 after transcoding
        self.scratch = scratch  # a folder for LF copies, removed with the batch
        self.blank_lines: dict[str, int] = {}  # file name -> blank lines skipped
        self.quarantined: dict[str, str] = {}  # file name -> why it cannot be read
        self.copies = 0  # LF copies made, to name them

    def read(
        self, files: list[LocalFile], connection: duckdb.DuckDBPyConnection
    ) -> pa.RecordBatchReader:
        """The rows as a stream: good rows first, then the rejected lines."""
        main, rejected, columns = self.queries(files, connection)
        schema = pa.schema([(c, pa.string()) for c in [*columns, SOURCE, RESCUED]])

        def batches() -> Iterator[pa.RecordBatch]:
            for query in (main, rejected()):
                for batch in relation_reader(connection.sql(query), BATCH_ROWS):
                    yield batch if batch.schema == schema else batch.cast(schema)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def queries(
        self, files: list[LocalFile], connection: duckdb.DuckDBPyConnection
    ) -> tuple[str, Callable[[], str], list[str]]:
        """SQL of the good rows, a function giving the SQL of the rejected lines and the
        quarantined files (valid once the first has run), and the union of columns.
        Files sharing a header are read by one parallel scan; empty files by none."""
        readable = [r for r in map(self._prepare, files) if r is not None]
        columns = _union(header for _, header, _ in readable)
        scanned = [(f, header, skip) for f, header, skip in readable if header]
        connection.execute(
            "CREATE OR REPLACE TEMP TABLE _afluente_files (pos INTEGER, path VARCHAR, name VARCHAR)"
        )
        insert_rows(
            connection,
            "_afluente_files",
            [(i, f.path, f.entry.name) for i, (f, _, _) in enumerate(scanned)],
        )
        quarantined = quarantine_sql(connection, self.quarantined)
        groups: dict[tuple[tuple[str, ...], int], list[LocalFile]] = {}
        for file, header, skip in scanned:
            groups.setdefault((tuple(header), skip), []).append(file)
        parts = [
            self._group_sql(group, list(header), skip, columns)
            for (header, skip), group in groups.items()
        ]
        main = " UNION ALL ".join(parts) if parts else _no_rows(columns)
        rejected = partial(self._rejected_sql, columns, quarantined, bool(parts))
        return main, rejected, columns

    def _prepare(self, file: LocalFile) -> tuple[LocalFile, list[str], int] | None:
        """The file as DuckDB will read it, its header and the blank lines before it; None
        when it is quarantined."""
        try:
            lines = survey(file.path, self._dialect, lambda: self._copy_path(file))
            if lines.copy is not None:
                file = LocalFile(file.entry, str(lines.copy))
            header, skip = self.header(file)
        except UnreadableFile as exc:
            self.quarantined[file.entry.name] = str(exc)
            return None
        except (OSError, UnicodeError) as exc:
            self.quarantined[file.entry.name] = f"cannot read the file: {_os_detail(exc)}"
            return None
        self.blank_lines[file.entry.name] = lines.blank_lines
        return file, header, skip

    def _copy_path(self, file: LocalFile) -> Path:
        self.copies += 1
        return self.scratch() / f"lf-{self.copies}-{Path(file.path).name}"

    @property
    def _dialect(self) -> Dialect:
        o = self.options
        return Dialect(self.delimiter, o.quote, o.escape, python_codec(self.encoding))

    def _group_sql(
        self, files: list[LocalFile], header: list[str], skip: int, columns: list[str]
    ) -> str:
        o = self.options
        declared = ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in header)
        present = set(header)
        selected = [
            f"s.{_ident(c)}" if c in present else f"NULL::VARCHAR AS {_ident(c)}"
            for c in columns
        ]
        paths = "[" + ", ".join(_literal(f.path) for f in files) + "]"
        scan = (
            f"read_csv({paths}, auto_detect = false, columns = {{{declared}}}, "
            f"header = {str(o.header).lower()}, delim = {_literal(self.delimiter)}, "
            f"quote = {_literal(o.quote)}, escape = {_literal(o.escape)}, "
            f"encoding = {_literal(self.encoding)}, skip = {skip}, store_rejects = true, "
            "filename = true)"
        )
        named = name_by_prefix(files)
        if named is not None:
            metadata = [f"{named} AS {SOURCE}", f"NULL::VARCHAR AS {RESCUED}"]
            return f"SELECT {', '.join([*selected, *metadata])} FROM {scan} AS s"
        metadata = [f"f.name AS {SOURCE}", f"NULL::VARCHAR AS {RESCUED}"]
        return (
            f"SELECT {', '.join([*selected, *metadata])} FROM {scan} AS s "
            "JOIN _afluente_files AS f ON f.path = s.filename"
        )

    def _rejected_sql(self, columns: list[str], quarantined: str, scanned: bool) -> str:
        """The rejected lines (when a file was scanned), then the quarantined files."""
        nulls = "".join(f"NULL::VARCHAR AS {_ident(c)}, " for c in columns)
        files = f"SELECT {nulls}q.* FROM ({quarantined}) AS q"
        if not scanned:
            return files
        # the reject table's line starts after the previous record's line break: blank
        # lines before it show up as leading line breaks
        return f"""
            SELECT * FROM (
                SELECT {nulls}f.name AS {SOURCE},
                    json_object('_source', f.name, '_line', e.line,
                        '_error', string_agg(DISTINCT e.error_message, '; '),
                        '_raw', trim(any_value(e.csv_line), chr(13) || chr(10)))::VARCHAR
                        AS {RESCUED}
                FROM reject_errors e
                JOIN reject_scans s ON e.scan_id = s.scan_id AND e.file_id = s.file_id
                JOIN _afluente_files f ON f.path = s.file_path
                GROUP BY f.pos, f.name, e.line
                ORDER BY f.pos, e.line
            ) UNION ALL {files}
        """

    def header(self, file: LocalFile) -> tuple[list[str], int]:
        """The file's column names ([] for an empty file; `columnN` without a header) and
        the blank lines before them, which DuckDB must skip. Raises UnreadableFile when the
        first line cannot be parsed or decoded."""
        # text is decoded in chunks: a bad byte further down is DuckDB's to rescue, not ours
        codec = python_codec(self.encoding)
        try:
            with open(file.path, encoding=codec, errors="replace", newline="") as text:
                rows = enumerate(self._csv_reader(text))
                skip, first = next(((n, row) for n, row in rows if row), (0, None))
        except csv.Error as exc:
            raise UnreadableFile(f"cannot read the first line: {exc}") from None
        if first is None:
            return [], 0
        if any("\ufffd" in name for name in first):
            raise UnreadableFile(
                f"cannot read the first line: it is not valid {self.encoding} "
                "(check `options.encoding`)"
            )
        if not self.options.header:
            return [f"column{i}" for i in range(len(first))], skip
        return _unique([name.strip() or f"column{i}" for i, name in enumerate(first)]), skip

    def _csv_reader(self, text: Iterable[str]) -> Iterator[list[str]]:
        o = self.options
        doubled = o.escape == o.quote
        return csv.reader(
            text,
            delimiter=self.delimiter,
            quotechar=o.quote,
            doublequote=doubled,
            escapechar=None if doubled else o.escape,
        )


class UnreadableFile(Exception):
    """A file that cannot be read at all; the message says why."""


def _os_detail(exc: OSError | UnicodeError) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _no_rows(columns: list[str]) -> str:
    nulls = "".join(f"NULL::VARCHAR AS {_ident(c)}, " for c in columns)
    return f"SELECT {nulls}NULL::VARCHAR AS {SOURCE}, NULL::VARCHAR AS {RESCUED} WHERE false"


def insert_rows(
    connection: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]
) -> None:
    """Insert `rows` into `table` (nothing to do for none: DuckDB refuses an empty list)."""
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def name_by_prefix(files: list[LocalFile]) -> str | None:
    """SQL naming each row's file from `s.filename` by cutting one common prefix (files read
    in place), or None when the names need the lookup table (staged copies)."""
    prefixes = {
        f.path[: len(f.path) - len(f.entry.name)]
        for f in files
        if f.path.endswith(f.entry.name)
    }
    if len(prefixes) != 1 or any(not f.path.endswith(f.entry.name) for f in files):
        return None
    prefix = prefixes.pop()
    return f"substr(s.filename, {len(prefix) + 1})" if prefix else "s.filename"


def _union(headers: Iterable[list[str]]) -> list[str]:
    """Every column name, in order of first appearance across the files."""
    seen: dict[str, None] = {}
    for header in headers:
        seen.update(dict.fromkeys(header))
    return list(seen)


def _unique(names: list[str]) -> list[str]:
    """Repeated header names get `_1`, `_2`... so every column keeps its values."""
    taken: set[str] = set()
    unique: list[str] = []
    for name in names:
        candidate, n = name, 0
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        unique.append(candidate)
    return unique
