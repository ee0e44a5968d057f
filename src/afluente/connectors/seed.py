"""`type: seed`: one small CSV file kept with the project, its column types inferred.

The file is checked line by line first (Python's csv module: every row has the header's
number of fields, quotes are closed), so a bad seed is an error naming file:line before
anything is written. The engine's file scanner (DuckDB's) then reads it with the types it
infers from every row (integers, decimals, dates, timestamps, booleans; a code with leading
zeros stays text). A column hinted
in `columns:` is read as text and cast by the bronze step, where a value that does not cast
lands in `_rescued_data`. The table is replaced whenever the file or the seed's keys change,
in one commit; an unchanged seed is not read again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from afluente.config import SourceBase
from afluente.connectors.protocol import IngestContext, Ingestion, SourceCheck
from afluente.errors import ConnectorError, Location

CSV_HINT = "a seed is a UTF-8 CSV file with a header line and the same number of fields per row"


class SeedSource(SourceBase):
    """A seed: `path` to one CSV file (seeds under `seeds/` are declared automatically)."""

    type: Literal["seed"]
    path: str
    delimiter: str = Field(default=",", min_length=1, max_length=1)


class SeedConnector:
    """Reads one seed file whole."""

    config_model = SeedSource

    def __init__(self, name: str, config: SeedSource, root: Path, location: Location) -> None:
        self.name = name
        self.config = config
        self.file = (root / config.path).resolve()
        self.location = location

    def check(self, history: Sequence[Mapping[str, Any]]) -> SourceCheck:
        try:
            signature = self.signature()
        except ConnectorError as exc:
            return SourceCheck(error=exc.message)
        return SourceCheck(signature=signature, detail=f"seed {self.config.path}")

    def read(self, context: IngestContext) -> Ingestion | None:
        signature = self.signature()
        if not context.full_refresh and context.progress.get("signature") == signature:
            return None
        header = self.checked_header()
        scanner = context.file_scanner(self.name, self.location)
        text_columns = [c for c in header if c in self.config.columns]
        query = scanner.typed_csv(
            str(self.file), self.config.path, self.config.delimiter, text_columns, self._translate
        )
        return Ingestion(
            query=query,
            mode="overwrite",
            progress={"signature": signature},
            summary=f"seed {self.config.path} ({self.file.stat().st_size:,} bytes)",
        )

    def signature(self) -> str:
        """Changes when the file's bytes or the seed's keys change."""
        digest = hashlib.sha256(self._bytes())
        digest.update(self.config.model_dump_json().encode())
        return digest.hexdigest()[:16]

    def _bytes(self) -> bytes:
        try:
            return self.file.read_bytes()
        except OSError as exc:
            raise ConnectorError(
                f"seed `{self.name}`: cannot read {self.config.path}: {exc.strerror}",
                location=self.location,
                hint="check the file exists under the project folder",
            ) from None

    def checked_header(self) -> list[str]:
        """The header's column names, once every line has been checked."""
        reader = csv.reader(
            io.StringIO(self._text(), newline=""), delimiter=self.config.delimiter, strict=True
        )
        try:
            header = next(reader, [])
            if not header:
                raise self._error("the file is empty (no header line)", 1)
            self._check_names(header)
            for row in reader:
                if row and len(row) != len(header):
                    raise self._error(
                        f"line has {len(row)} fields, the header has {len(header)}",
                        reader.line_num,
                    )
        except csv.Error as exc:
            raise self._error(str(exc), reader.line_num) from None
        self._check_hints(header)
        return header

    def _text(self) -> str:
        data = self._bytes()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise self._error(f"byte 0x{data[exc.start]:02x} is not UTF-8", line) from None

    def _check_names(self, header: list[str]) -> None:
        for index, column in enumerate(header):
            if not column.strip():
                raise self._error(f"column {index + 1} of the header has no name", 1)
            if header.index(column) != index:
                raise self._error(f"column `{column}` appears twice in the header", 1)

    def _check_hints(self, header: list[str]) -> None:
        unknown = sorted(set(self.config.columns) - set(header))
        if unknown:
            raise ConnectorError(
                f"seed `{self.name}`: `columns` hints `{unknown[0]}`, which is not a column of "
                f"{self.config.path}",
                location=self.location,
                hint=f"its columns: {', '.join(header)}",
            )

    def _error(self, problem: str, line: int) -> ConnectorError:
        return ConnectorError(
            f"seed `{self.name}`: {problem}", location=Location(self.file, line), hint=CSV_HINT
        )

    def _translate(self, exc: Exception) -> ConnectorError:
        if isinstance(exc, ConnectorError):
            return exc
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return ConnectorError(
            f"seed `{self.name}`: DuckDB cannot read {self.config.path}: {detail}",
            location=Location(self.file),
            hint=CSV_HINT,
        )

