"""Files on disk (csv, json/ndjson, parquet) read with DuckDB's readers into bronze.

CSV columns land as text, exactly as in the file; typing belongs to silver. Every row gets
`_source_file`, `_ingested_at`, `_run_id` and `_row_hash` (md5 of the raw values).
"""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path
from typing import Any

import duckdb

from afluente.config import FilesSource
from afluente.connectors.protocol import IngestContext
from afluente.errors import ConnectorError, Location
from afluente.streams import ResultStream, guarded, relation_reader

METADATA_COLUMNS = ("_source_file", "_ingested_at", "_run_id", "_row_hash")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class FilesConnector:
    """A glob of files of one format."""

    def __init__(self, name: str, config: FilesSource, root: Path, location: Location) -> None:
        self.name = name
        self.config = config
        self.root = root
        self.location = location

    def files(self) -> list[Path]:
        pattern = self.config.path
        full = pattern if Path(pattern).is_absolute() else str(self.root / pattern)
        found = sorted(Path(p) for p in glob.glob(full, recursive=True) if Path(p).is_file())
        if not found:
            raise ConnectorError(
                f"source `{self.name}`: no file matches `{pattern}`",
                location=self.location,
                hint=f"check `path` (resolved against {self.root}) or add files there",
            )
        return found

    def snapshot(self) -> dict[str, Any]:
        digest = hashlib.sha256()
        files = self.files()
        for file in files:
            stat = file.stat()
            digest.update(f"{file}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
        return {"files": len(files), "signature": digest.hexdigest()[:16]}

    def read(self, context: IngestContext) -> ResultStream:
        files = self.files()
        connection = duckdb.connect(":memory:")
        connection.execute("SET TimeZone = 'UTC'")
        try:
            scan = self._scan([str(f) for f in files])
            described = connection.sql(f"DESCRIBE SELECT * FROM {scan}").fetchall()
            columns = [row[0] for row in described]
            reader = relation_reader(connection.sql(self._select(scan, columns, context)))
        except duckdb.Error as exc:
            connection.close()
            raise self._error(exc) from None
        return guarded(reader, self._translate, keepalive=connection, on_close=connection.close)

    def _scan(self, files: list[str]) -> str:
        paths = "[" + ", ".join(_literal(f) for f in files) + "]"
        fmt = self.config.format
        if fmt == "parquet":
            return f"read_parquet({paths}, union_by_name = true)"
        if fmt in ("json", "ndjson"):
            style = "newline_delimited" if fmt == "ndjson" else "auto"
            return f"read_json({paths}, format = {_literal(style)}, union_by_name = true)"
        o = self.config.options
        return (
            f"read_csv({paths}, all_varchar = true, union_by_name = true, "
            f"header = {str(o.header).lower()}, delim = {_literal(o.delimiter)}, "
            f"quote = {_literal(o.quote)}, escape = {_literal(o.escape)}, "
            f"encoding = {_literal(o.encoding)})"
        )

    def _select(self, scan: str, columns: list[str], context: IngestContext) -> str:
        values = ", ".join(
            f"coalesce(CAST({_ident(c)} AS VARCHAR), '\\N')" for c in columns
        )
        prefix = str(self.root).rstrip("/") + "/"
        return (
            f"SELECT *, "
            f"CASE WHEN starts_with(filename, {_literal(prefix)}) "
            f"THEN substr(filename, {len(prefix) + 1}) ELSE filename END AS _source_file, "
            f"{_literal(context.ingested_at.isoformat())}::TIMESTAMPTZ AS _ingested_at, "
            f"{_literal(context.run_id)} AS _run_id, "
            f"md5(concat_ws(chr(31), {values})) AS _row_hash "
            f"FROM {scan}"
        )

    def _translate(self, exc: Exception) -> ConnectorError:
        return self._error(exc)

    def _error(self, exc: Exception) -> ConnectorError:
        detail = str(exc).strip().splitlines()
        return ConnectorError(
            f"source `{self.name}`: cannot read {self.config.format} files: "
            + " ".join(line.strip() for line in detail[:3]),
            location=self.location,
            hint="fix the file or the source `options`; nothing was written",
        )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
