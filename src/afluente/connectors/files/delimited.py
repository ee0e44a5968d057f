"""Delimited text (csv, tsv) read file by file, with malformed lines rescued, never dropped.

The engine's scan (`FileScan.delimited`) records each line it cannot parse (wrong number
of fields, an unterminated quote, bad bytes); each file is scanned against the union of all
headers, which Python's csv module reads first here (a UTF-8 BOM never reaches a column
name). Every column is text. Once the good rows have streamed through, the rejected lines
follow as final batches: data columns null, `_rescued_data` =
`{"_source", "_line", "_error", "_raw"}`.

Before that, each file is surveyed (`line_endings`): a file with mixed line endings is read
from an LF copy, blank lines are counted, and a file that cannot be read at all (its first
line cannot be parsed or decoded, the file cannot be opened) is quarantined: it lands as
one row naming it and the reason, `{"_source", "_error"}`, and the other files land.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from afluente.connectors.files.config import FileOptions
from afluente.connectors.files.encodings import python_codec
from afluente.connectors.files.line_endings import Dialect, survey
from afluente.connectors.files.staging import LocalFile
from afluente.connectors.protocol import CsvDialect, CsvFile, FileScan
from afluente.errors import Location
from afluente.streams import SourceQuery

RESCUED = "_rescued_data"
SOURCE = "_source"
BATCH_ROWS = 100_000


class DelimitedScan:
    """Reads staged csv/tsv files through one engine scan."""

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
        self.encoding = encoding  # what the engine reads: utf-8 after transcoding
        self.scratch = scratch  # a folder for LF copies, removed with the batch
        self.blank_lines: dict[str, int] = {}  # file name -> blank lines skipped
        self.quarantined: dict[str, str] = {}  # file name -> why it cannot be read
        self.copies = 0  # LF copies made, to name them

    def read(self, files: list[LocalFile], scan: FileScan) -> pa.RecordBatchReader:
        """The rows as a stream: good rows first, then the rejected lines."""
        query, columns = self.query(files, scan)
        schema = pa.schema([(c, pa.string()) for c in [*columns, SOURCE, RESCUED]])

        def batches() -> Iterator[pa.RecordBatch]:
            for batch in scan.stream(query, BATCH_ROWS):
                yield batch if batch.schema == schema else batch.cast(schema)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def query(self, files: list[LocalFile], scan: FileScan) -> tuple[SourceQuery, list[str]]:
        """The engine's query of the rows (the rejected lines and quarantined files follow
        it), and the union of columns. Empty files are read by no scan."""
        readable = [r for r in map(self._prepare, files) if r is not None]
        columns = _union(header for _, header, _ in readable)
        scanned = [
            CsvFile(f.path, f.entry.name, tuple(header), skip)
            for f, header, skip in readable
            if header
        ]
        query = scan.delimited(scanned, columns, self._engine_dialect, self.quarantined)
        return query, columns

    def _prepare(self, file: LocalFile) -> tuple[LocalFile, list[str], int] | None:
        """The file as the engine will read it, its header and the blank lines before it; None
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

    @property
    def _engine_dialect(self) -> CsvDialect:
        o = self.options
        return CsvDialect(self.delimiter, o.quote, o.escape, self.encoding, o.header)

    def header(self, file: LocalFile) -> tuple[list[str], int]:
        """The file's column names ([] for an empty file; `columnN` without a header) and
        the blank lines before them, which the engine must skip. Raises UnreadableFile when the
        first line cannot be parsed or decoded."""
        # text is decoded in chunks: a bad byte further down is the engine's to rescue, not ours
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
