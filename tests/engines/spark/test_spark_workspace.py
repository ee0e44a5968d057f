"""The Spark workspace of the incremental kinds: scratch tables as temporary views of the
engine's session, exposed Arrow data, statements, and its bad input."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime

import pyarrow as pa
import pyarrow.dataset as pads
import pytest

from afluente.engines.spark_engine import SparkEngine
from afluente.engines.spark_workspace import SparkWorkspace
from afluente.errors import EngineError

ROWS = pa.table({"id": [1, 2, 3], "v": ["a", "b", None]})


def test_scratch_tables_from_tables_streams_and_queries(spark_engine: SparkEngine) -> None:
    with closing(spark_engine.workspace()) as ws:
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
        ws.create("q", "FROM s QUALIFY row_number() OVER (ORDER BY id DESC) = 1")
        assert ws.columns("q") == ["id", "v"]  # the QUALIFY marker is not a column
        ws.drop("u")
        ws.drop("u")  # nothing when there is none
        with pytest.raises(EngineError, match="an incremental step failed on Spark"):
            ws.scalar("SELECT count(*) FROM u")


def test_exposed_data_and_timestamp_parameters(spark_engine: SparkEngine) -> None:
    at = datetime(2026, 3, 1, 12, 30)
    with closing(spark_engine.workspace()) as ws:
        ws.expose("d", pads.dataset(ROWS))
        assert ws.scalar("SELECT count(*) FROM d WHERE id >= 2") == 2
        assert ws.rows("SELECT $at AS at, $at > CAST('2026-01-01' AS TIMESTAMP) AS later",
                       {"at": at}) == [(at, True)]


def test_two_workspaces_of_one_engine_keep_their_tables_apart(
    spark_engine: SparkEngine,
) -> None:
    with closing(spark_engine.workspace()) as one, closing(spark_engine.workspace()) as two:
        one.load("t", ROWS)
        two.load("t", ROWS.slice(0, 1))
        assert (one.scalar("SELECT count(*) FROM t"), two.scalar("SELECT count(*) FROM t")) \
            == (3, 1)


def test_loading_something_else_says_what_a_workspace_takes(
    spark_engine: SparkEngine,
) -> None:
    with closing(spark_engine.workspace()) as ws, pytest.raises(EngineError) as raised:
        ws.load("t", [1, 2, 3])

    assert "cannot load a list into scratch table `t` of a Spark workspace" in str(raised.value)
    assert "Arrow table or record batch reader" in str(raised.value)


def test_on_a_cluster_arrow_data_is_sent_from_the_driver(spark_engine: SparkEngine) -> None:
    with closing(SparkWorkspace(spark_engine.session, remote=True)) as ws:
        assert ws.load("t", pa.RecordBatchReader.from_batches(ROWS.schema, ROWS.to_batches())) \
            == ["id", "v"]
        ws.expose("d", ROWS)
        assert ws.rows("SELECT count(*), count(t.v) FROM t JOIN d USING (id)") == [(3, 2)]
