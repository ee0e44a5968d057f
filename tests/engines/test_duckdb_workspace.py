"""What only the DuckDB workspace does: it runs on a cursor of the engine's database (shared
settings, its own session) or on a caller's connection. What every engine's workspace does is
in the contract suite (tests/engines/contract/test_workspace.py)."""

from __future__ import annotations

from contextlib import closing
from datetime import date

import duckdb
import pyarrow as pa
import pytest

from afluente.engines.duckdb_engine import DuckDBEngine
from afluente.engines.duckdb_workspace import DuckDBWorkspace
from afluente.engines.settings import DuckDBSettings
from afluente.errors import Location

ROWS = pa.table({"id": [1, 2, 3], "v": ["a", "b", None]})


def test_an_engine_workspace_shares_its_database_not_its_session() -> None:
    engine = DuckDBEngine(DuckDBSettings(memory_limit="512MB"))
    try:
        engine.connection.execute("SET TimeZone = 'America/Sao_Paulo'")
        with closing(engine.workspace()) as ws:
            assert ws.scalar("SELECT current_setting('memory_limit')") == \
                engine.connection.execute("SELECT current_setting('memory_limit')").fetchone()[0]
            assert ws.scalar("SELECT current_setting('TimeZone')") == "UTC"
            ws.load("scratch", ROWS)
            # a model's result streams out of the engine's connection while the workspace
            # reads it
            stream = engine.run_sql("SELECT range AS id FROM range(5)", Location("t.sql"), "t")
            assert ws.load("streamed", stream.reader) == ["id"]
            assert ws.scalar("SELECT sum(id) FROM streamed") == 10
        with pytest.raises(duckdb.CatalogException):
            engine.connection.execute("SELECT * FROM scratch")
        assert engine.connection.execute("SELECT current_setting('TimeZone')").fetchone() == \
            ("America/Sao_Paulo",)
    finally:
        engine.close()


def test_a_shared_connection_loads_its_own_relations_and_stays_open() -> None:
    con = duckdb.connect()
    ws = DuckDBWorkspace.sharing(con)
    assert ws.load("r", con.sql("SELECT DATE '2024-01-02' AS d")) == ["d"]
    ws.close()
    assert con.execute("SELECT d FROM r").fetchone() == (date(2024, 1, 2),)
