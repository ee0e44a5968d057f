"""A third-party engine plugin, as a user would publish one: DuckDB that logs which tables
it computed. Registered through the `afluente.engines` entry-point group by the dist-info
that `tests/engines/test_registry.py` installs beside it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from afluente.engines import DuckDBSettings, EngineSettings
from afluente.engines.duckdb_engine import DuckDBEngine
from afluente.errors import Location
from afluente.model import TableRef
from afluente.streams import ResultStream


class RecordingSettings(EngineSettings):
    type: Literal["recording"] = "recording"
    log: str = "computed.log"
    threads: int | None = None


class RecordingEngine(DuckDBEngine):
    name = "recording"
    config_model = RecordingSettings

    def __init__(self, settings: RecordingSettings) -> None:
        super().__init__(DuckDBSettings(threads=settings.threads))
        self.log = Path(settings.log)

    def _record(self, table: str) -> None:
        with self.log.open("a") as out:
            out.write(table + "\n")

    def run_sql(self, sql: str, origin: Location, table: str) -> ResultStream:
        self._record(table)
        return super().run_sql(sql, origin, table)

    def write_parquet(
        self, sql: str, origin: Location, table: str, directory: Path
    ) -> tuple[list[Path], int] | None:
        self._record(table)
        return super().write_parquet(sql, origin, table, directory)

    def run_python(
        self,
        function: Callable[..., Any],
        inputs: Sequence[TableRef],
        keywords: Sequence[str] | None,
        origin: Location,
        table: str,
    ) -> ResultStream:
        self._record(table)
        return super().run_python(function, inputs, keywords, origin, table)
