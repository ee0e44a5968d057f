"""DuckDB's file scanner: how the DuckDB engine reads the files a connector prepared.

The files connector decides what to read (staged local copies, each csv file's header and
the blank lines before it, the files quarantined already) and hands that over as plain
descriptions (`afluente.connectors.protocol.FileScanner`); this module turns them into
DuckDB SQL on one connection per batch. The runtime shapes and writes the rows on that same
connection (`engines/bronze.py`), so DuckDB's parallel readers feed its parallel Parquet
writer with no Arrow hand-off in between.

csv/tsv: files sharing a header are read by one `read_csv` scan, every column as text, with
DuckDB's reject tables on; the lines it rejected follow once the scan has run, with
`_rescued_data` = `{"_source", "_line", "_error", "_raw"}`. json, ndjson and parquet: one
`union_by_name` scan; a JSON field of mixed types (DuckDB types it `JSON`) lands as each
value's own text. A quarantined file lands as one row `{"_source", "_error"}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Literal, Protocol

import duckdb
import pyarrow as pa

from afluente.engines.duckdb_connection import duckdb_connect, relation_reader
from afluente.sql_text import ident as _ident
from afluente.sql_text import string as _literal
from afluente.streams import SourceQuery

SOURCE = "_source"
RESCUED = "_rescued_data"
FILES_TABLE = "_afluente_files"
QUARANTINE_TABLE = "_afluente_quarantined"

Translate = Callable[[Exception], BaseException]


class ScanFile(Protocol):
    """A file to read: its local path, and its name in `_source`."""

    @property
    def path(self) -> str: ...
    @property
    def name(self) -> str: ...


class CsvFile(ScanFile, Protocol):
    """A csv/tsv file with its header (never empty) and the blank lines before it."""

    @property
    def header(self) -> Sequence[str]: ...
    @property
    def skip(self) -> int: ...


class CsvDialect(Protocol):
    """How the text is written; `encoding` is what DuckDB reads (utf-8 once transcoded)."""

    @property
    def delimiter(self) -> str: ...
    @property
    def quote(self) -> str: ...
    @property
    def escape(self) -> str: ...
    @property
    def encoding(self) -> str: ...
    @property
    def header(self) -> bool: ...


class DuckDBFileScanner:
    """Reads files for connectors with DuckDB (a `FileScanner`)."""

    def open(self, translate: Translate, on_close: Callable[[], None]) -> DuckDBFileScan:
        """A connection for one batch of files; closing it also calls `on_close`."""
        return DuckDBFileScan(translate, on_close)

    def typed_csv(
        self,
        path: str,
        label: str,
        delimiter: str,
        text_columns: Sequence[str],
        translate: Translate,
    ) -> SourceQuery:
        """One CSV file (header, `"` quotes) with the types DuckDB infers from every row,
        `text_columns` kept as text, and `_source` = `label`."""
        options = {
            "header": "true",
            "delim": _literal(delimiter),
            "quote": _literal('"'),
            "escape": _literal('"'),
            "sample_size": "-1",
        }
        if text_columns:
            options["types"] = "{" + ", ".join(
                f"{_literal(c)}: 'VARCHAR'" for c in text_columns
            ) + "}"
        arguments = ", ".join(f"{key} = {value}" for key, value in options.items())
        sql = f"SELECT *, {_literal(label)} AS _source FROM read_csv({_literal(path)}, {arguments})"
        connection = duckdb_connect(":memory:")
        return SourceQuery(connection, sql, translate, connection.close)


class DuckDBFileScan:
    """One batch of files read on one DuckDB connection (a `FileScan`)."""

    def __init__(self, translate: Translate, on_close: Callable[[], None]) -> None:
        self.translate = translate
        self.on_close = on_close
        self.connection: Any = duckdb_connect(":memory:")
        self.connection.execute("SET TimeZone = 'UTC'")

    def close(self) -> None:
        self.connection.close()
        self.on_close()

    def unreadable_json(self, path: str, newline_delimited: bool) -> Exception | None:
        """Why DuckDB cannot parse the file's JSON documents, or None when it can."""
        style = "newline_delimited" if newline_delimited else "auto"
        objects = f"read_json_objects({_literal(path)}, format = {_literal(style)})"
        try:
            self.connection.sql(f"SELECT count(*) FROM {objects}").fetchall()
        except (duckdb.Error, OSError) as exc:
            return exc
        return None

    def delimited(
        self,
        files: Sequence[CsvFile],
        columns: Sequence[str],
        dialect: CsvDialect,
        quarantined: Mapping[str, str],
    ) -> SourceQuery:
        """The files' rows (`columns`, `_source`, `_rescued_data`, all text); then, once
        they have run, the rejected lines and the quarantined files. Files sharing a header
        are read by one parallel scan."""
        self._files_table([(i, f.path, f.name) for i, f in enumerate(files)], positions=True)
        quarantine = self._quarantine_sql(quarantined)
        groups: dict[tuple[tuple[str, ...], int], list[CsvFile]] = {}
        for file in files:
            groups.setdefault((tuple(file.header), file.skip), []).append(file)
        parts = [
            _group_sql(group, header, skip, columns, dialect)
            for (header, skip), group in groups.items()
        ]
        main = " UNION ALL ".join(parts) if parts else _no_rows(columns)
        rejected = partial(_rejected_sql, columns, quarantine, bool(parts))
        return self._query(main, (rejected,))

    def documents(
        self,
        fmt: Literal["json", "ndjson", "parquet"],
        files: Sequence[ScanFile],
        quarantined: Mapping[str, str],
    ) -> SourceQuery:
        """The rows of readable json/ndjson/parquet files, then one row per quarantined
        file."""
        if not quarantined:
            return self._query(self._documents_sql(fmt, files))
        quarantine = self._quarantine_sql(quarantined)
        if not files:
            return self._query(quarantine)
        return self._query(f"{self._documents_sql(fmt, files)} UNION ALL BY NAME {quarantine}")

    def stream(self, query: SourceQuery, rows: int) -> pa.RecordBatchReader:
        """`query`'s rows as Arrow batches of up to `rows`, its follow-ups after them."""
        first = relation_reader(self.connection.sql(query.sql), rows)
        if not query.then:
            return first

        def batches() -> Any:
            yield from first
            for then in query.then:
                for batch in relation_reader(self.connection.sql(then()), rows):
                    yield batch if batch.schema == first.schema else batch.cast(first.schema)

        return pa.RecordBatchReader.from_batches(first.schema, batches())

    def _query(self, sql: str, then: tuple[Callable[[], str], ...] = ()) -> SourceQuery:
        return SourceQuery(self.connection, sql, self.translate, self.close, then)

    def _files_table(self, rows: list[tuple[Any, ...]], positions: bool = False) -> None:
        """The table naming each read path's file (`pos` keeps the files' order)."""
        pos = "pos INTEGER, " if positions else ""
        self.connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {FILES_TABLE} ({pos}path VARCHAR, name VARCHAR)"
        )
        if rows:  # DuckDB refuses an empty parameter list
            marks = ", ".join("?" * len(rows[0]))
            self.connection.executemany(f"INSERT INTO {FILES_TABLE} VALUES ({marks})", rows)

    def _quarantine_sql(self, quarantined: Mapping[str, str]) -> str:
        """SQL of the quarantined files' rows (`_source`, `_rescued_data`)."""
        self.connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {QUARANTINE_TABLE} (name VARCHAR, reason VARCHAR)"
        )
        if quarantined:
            self.connection.executemany(
                f"INSERT INTO {QUARANTINE_TABLE} VALUES (?, ?)", list(quarantined.items())
            )
        return (
            f"SELECT name AS {SOURCE}, json_object('_source', name, '_error', reason)::VARCHAR "
            f"AS {RESCUED} FROM {QUARANTINE_TABLE}"
        )

    def _documents_sql(self, fmt: str, files: Sequence[ScanFile]) -> str:
        self._files_table([(f.path, f.name) for f in files])
        scan = _documents_function(fmt, [f.path for f in files])
        columns = [_document_column(fmt, name, type_name)
                   for name, type_name in self._described(scan)]
        named = name_by_prefix(files)
        if named is not None:
            return f"SELECT {', '.join([*columns, f'{named} AS {SOURCE}'])} FROM {scan} AS s"
        return (
            f"SELECT {', '.join([*columns, f'f.name AS {SOURCE}'])} "
            f"FROM {scan} AS s JOIN {FILES_TABLE} AS f ON f.path = s.filename"
        )

    def document_columns(
        self, fmt: Literal["json", "ndjson", "parquet"], paths: Sequence[str]
    ) -> dict[str, str]:
        """The data columns `documents` gives, typed as it lands them: parquet from the
        footers, JSON from DuckDB's type sample (a field of mixed types is text)."""
        scan = _documents_function(fmt, list(paths))
        mixed = fmt != "parquet"
        return {name: "VARCHAR" if mixed and type_name == "JSON" else type_name
                for name, type_name in self._described(scan)}

    def _described(self, scan: str) -> list[tuple[str, str]]:
        """Name and type of each data column of a `_documents_function` scan (no row is
        read beyond what DuckDB samples to type them)."""
        described = self.connection.sql(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        return [(name, type_name) for name, type_name, *_ in described if name != "filename"]


def _documents_function(fmt: str, paths: list[str]) -> str:
    listed = "[" + ", ".join(_literal(p) for p in paths) + "]"
    if fmt == "parquet":
        return f"read_parquet({listed}, union_by_name = true, filename = true)"
    style = "newline_delimited" if fmt == "ndjson" else "auto"
    return (
        f"read_json({listed}, format = {_literal(style)}, union_by_name = true, "
        "filename = true)"
    )


def _document_column(fmt: str, name: str, type_name: str) -> str:
    """A column of the scan as selected: a JSON field whose values have mixed types
    (DuckDB types it `JSON`) becomes each value's own text, `a` for `"a"` and `5` for
    `5`, objects and arrays as their JSON text."""
    column = f"s.{_ident(name)}"
    if fmt in ("json", "ndjson") and type_name == "JSON":
        return f"{column} ->> '$' AS {_ident(name)}"
    return column


def _group_sql(
    files: list[CsvFile],
    header: tuple[str, ...],
    skip: int,
    columns: Sequence[str],
    dialect: CsvDialect,
) -> str:
    declared = ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in header)
    present = set(header)
    selected = [
        f"s.{_ident(c)}" if c in present else f"NULL::VARCHAR AS {_ident(c)}" for c in columns
    ]
    paths = "[" + ", ".join(_literal(f.path) for f in files) + "]"
    scan = (
        f"read_csv({paths}, auto_detect = false, columns = {{{declared}}}, "
        f"header = {str(dialect.header).lower()}, delim = {_literal(dialect.delimiter)}, "
        f"quote = {_literal(dialect.quote)}, escape = {_literal(dialect.escape)}, "
        f"encoding = {_literal(dialect.encoding)}, skip = {skip}, store_rejects = true, "
        "filename = true)"
    )
    named = name_by_prefix(files)
    if named is not None:
        metadata = [f"{named} AS {SOURCE}", f"NULL::VARCHAR AS {RESCUED}"]
        return f"SELECT {', '.join([*selected, *metadata])} FROM {scan} AS s"
    metadata = [f"f.name AS {SOURCE}", f"NULL::VARCHAR AS {RESCUED}"]
    return (
        f"SELECT {', '.join([*selected, *metadata])} FROM {scan} AS s "
        f"JOIN {FILES_TABLE} AS f ON f.path = s.filename"
    )


def _rejected_sql(columns: Sequence[str], quarantined: str, scanned: bool) -> str:
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
            JOIN {FILES_TABLE} f ON f.path = s.file_path
            GROUP BY f.pos, f.name, e.line
            ORDER BY f.pos, e.line
        ) UNION ALL {files}
    """


def _no_rows(columns: Sequence[str]) -> str:
    nulls = "".join(f"NULL::VARCHAR AS {_ident(c)}, " for c in columns)
    return f"SELECT {nulls}NULL::VARCHAR AS {SOURCE}, NULL::VARCHAR AS {RESCUED} WHERE false"


def name_by_prefix(files: Sequence[ScanFile]) -> str | None:
    """SQL naming each row's file from `s.filename` by cutting one common prefix (files read
    in place), or None when the names need the lookup table (staged copies)."""
    if any(not f.path.endswith(f.name) for f in files):
        return None
    prefixes = {f.path[: len(f.path) - len(f.name)] for f in files}
    if len(prefixes) != 1:
        return None
    prefix = prefixes.pop()
    return f"substr(s.filename, {len(prefix) + 1})" if prefix else "s.filename"
