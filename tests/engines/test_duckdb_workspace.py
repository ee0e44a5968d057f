"""The DuckDB workspace of the incremental kinds: scratch tables on a cursor of the engine's
database, exposed Arrow data, statements, and its bad input."""

from __future__ import annotations

from contextlib import closing
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
import pytest

from afluente.engines.duckdb_engine import DuckDBEngine
from afluente.engines.duckdb_workspace import DuckDBWorkspace
from afluente.engines.settings import DuckDBSettings
from afluente.errors import EngineError, Location

ROWS = pa.table({"id": [1, 2, 3], "v": ["a", "b", None]})


def test_scratch_tables_from_tables_streams_and_queries() -> None:
    with DuckDBWorkspace.fresh() as ws:
        assert ws.load("t", ROWS) == ["id", "v"]
        assert ws.load("s", pa.RecordBatchReader.from_batches(ROWS.schema, ROWS.to_batches())) \
            == ["id", "v"]
        ws.create("u", "SELECT id * $k AS id FROM t WHERE v IS NOT NULL", {"k": 10})
        assert ws.columns("u") == ["id"]
        assert ws.rows("SELECT id FROM u ORDER BY id") == [(10,), (20,)]
        assert ws.scalar("SELECT count(*) FROM s") == 3
        assert ws.scalar("SELECT id FROM u WHERE false") is None
        assert ws.stream("FROM t ORDER BY id").read_all().column("id").to_pylist() == [1, 2, 3]
        ws.create("t", "FROM t WHERE id > 1")  # a table may be rebuilt from itself
        assert ws.scalar("SELECT min(id) FROM t") == 2
        ws.drop("u")
        ws.drop("u")  # nothing when there is none
        assert ws.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'u'") == 0


def test_exposed_data_is_read_in_place_and_dropped() -> None:
    with DuckDBWorkspace.fresh() as ws:
        ws.expose("d", pads.dataset(ROWS))
        assert ws.scalar("SELECT count(*) FROM d WHERE id >= 2") == 2
        ws.drop("d")
        with pytest.raises(duckdb.CatalogException):
            ws.scalar("SELECT count(*) FROM d")


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


def test_a_source_it_cannot_load_is_a_clear_error() -> None:
    with DuckDBWorkspace.fresh() as ws, pytest.raises(EngineError) as caught:
        ws.load("incoming", [1, 2, 3])
    assert str(caught.value).startswith(
        "cannot load a list into scratch table `incoming` of a DuckDB workspace"
    )
    assert caught.value.hint is not None and "Arrow table" in caught.value.hint
