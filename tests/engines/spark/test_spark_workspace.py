"""What only the Spark workspace does: on a cluster, Arrow data is sent from the driver
rather than written to a local folder the executors cannot read. What every engine's
workspace does is in the contract suite (tests/engines/contract/test_workspace.py)."""

from __future__ import annotations

from contextlib import closing

import pyarrow as pa

from afluente.engines.spark_engine import SparkEngine
from afluente.engines.spark_workspace import SparkWorkspace

ROWS = pa.table({"id": [1, 2, 3], "v": ["a", "b", None]})


def test_on_a_cluster_arrow_data_is_sent_from_the_driver(spark_engine: SparkEngine) -> None:
    with closing(SparkWorkspace(spark_engine.session, remote=True)) as ws:
        assert ws.load("t", pa.RecordBatchReader.from_batches(ROWS.schema, ROWS.to_batches())) \
            == ["id", "v"]
        ws.expose("d", ROWS)
        assert ws.rows("SELECT count(*), count(t.v) FROM t JOIN d USING (id)") == [(3, 2)]
