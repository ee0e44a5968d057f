"""Read a batch of files of one format as one Arrow stream (source columns + `_source`)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from afluente.connectors.files.config import FilesSource
from afluente.connectors.files.listing import FileEntry
from afluente.errors import ConnectorError, Location
from afluente.streams import ResultStream, guarded, relation_reader


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class FileReader:
    """Reads files with DuckDB's readers; CSV columns stay text, exactly as in the file."""

    def __init__(self, name: str, config: FilesSource, root: Path, location: Location) -> None:
        self.name = name
        self.config = config
        self.root = root
        self.location = location

    def read(self, files: list[FileEntry]) -> ResultStream:
        connection = duckdb.connect(":memory:")
        connection.execute("SET TimeZone = 'UTC'")
        try:
            scan = self._scan([f.path for f in files])
            described = connection.sql(f"DESCRIBE SELECT * FROM {scan}").fetchall()
            columns = [row[0] for row in described if row[0] != "filename"]
            reader = relation_reader(connection.sql(self._select(scan, columns)))
        except duckdb.Error as exc:
            connection.close()
            raise self._error(exc) from None
        return guarded(reader, self._error, keepalive=connection, on_close=connection.close)

    def _scan(self, files: list[str]) -> str:
        paths = "[" + ", ".join(_literal(f) for f in files) + "]"
        fmt = self.config.format
        if fmt == "parquet":
            return f"read_parquet({paths}, union_by_name = true, filename = true)"
        if fmt in ("json", "ndjson"):
            style = "newline_delimited" if fmt == "ndjson" else "auto"
            return (
                f"read_json({paths}, format = {_literal(style)}, union_by_name = true, "
                "filename = true)"
            )
        o = self.config.options
        delimiter = "\t" if fmt == "tsv" else o.delimiter
        return (
            f"read_csv({paths}, all_varchar = true, union_by_name = true, filename = true, "
            f"header = {str(o.header).lower()}, delim = {_literal(delimiter)}, "
            f"quote = {_literal(o.quote)}, escape = {_literal(o.escape)}, "
            f"encoding = {_literal(o.encoding)})"
        )

    def _select(self, scan: str, columns: list[str]) -> str:
        prefix = str(self.root).rstrip("/") + "/"
        selected = ", ".join(_ident(c) for c in columns)
        return (
            f"SELECT {selected}, "
            f"CASE WHEN starts_with(filename, {_literal(prefix)}) "
            f"THEN substr(filename, {len(prefix) + 1}) ELSE filename END AS _source "
            f"FROM {scan}"
        )

    def _error(self, exc: Exception) -> ConnectorError:
        if isinstance(exc, ConnectorError):
            return exc
        detail = str(exc).strip().splitlines()
        return ConnectorError(
            f"source `{self.name}`: cannot read {self.config.format} files: "
            + " ".join(line.strip() for line in detail[:3]),
            location=self.location,
            hint="fix the file or the source `options`; nothing was written and the files "
            "will be read again on the next run",
        )
