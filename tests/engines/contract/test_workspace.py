"""The Workspace every engine gives the incremental kinds (`Engine.workspace()`): scratch
tables from Arrow data and queries, exposed data, parameters, isolation, and its bad input;
then a kind written through it keeps the stored column types."""

from __future__ import annotations

import re
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from deltalake import DeltaTable

from afluente.engines import Engine
from afluente.errors import EngineError, StorageError
from afluente.transform import MergeSpec, Target, merge

ROWS = pa.table({"id": [1, 2, 3], "v": ["a", "b", None]})


def test_scratch_tables_from_tables_streams_and_queries(engine: Engine) -> None:
    with closing(engine.workspace()) as ws:
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
        assert ws.rows("SELECT id FROM q") == [(3,)]
        ws.drop("u")
        ws.drop("u")  # nothing when there is none
        with pytest.raises(EngineError, match=r"an incremental step failed on \w+: "):
            ws.scalar("SELECT count(*) FROM u")


def test_exposed_data_is_read_in_place_and_dropped(engine: Engine) -> None:
    with closing(engine.workspace()) as ws:
        ws.expose("d", pads.dataset(ROWS))
        ws.expose("a", ROWS.slice(0, 2))
        assert ws.scalar("SELECT count(*) FROM d WHERE id >= 2") == 2
        assert ws.rows("SELECT count(*), count(a.v) FROM d JOIN a USING (id)") == [(2, 2)]
        ws.drop("d")
        with pytest.raises(EngineError, match="an incremental step failed"):
            ws.scalar("SELECT count(*) FROM d")


def test_timestamp_parameters(engine: Engine) -> None:
    at = datetime(2026, 3, 1, 12, 30)
    with closing(engine.workspace()) as ws:
        assert ws.rows("SELECT $at AS at, $at > CAST('2026-01-01' AS TIMESTAMP) AS later",
                       {"at": at}) == [(at, True)]


def test_two_workspaces_of_one_engine_keep_their_tables_apart(engine: Engine) -> None:
    with closing(engine.workspace()) as one, closing(engine.workspace()) as two:
        one.load("t", ROWS)
        two.load("t", ROWS.slice(0, 1))
        assert (one.scalar("SELECT count(*) FROM t"), two.scalar("SELECT count(*) FROM t")) \
            == (3, 1)


def test_loading_something_else_says_what_a_workspace_takes(engine: Engine) -> None:
    with closing(engine.workspace()) as ws, pytest.raises(EngineError) as raised:
        ws.load("t", [1, 2, 3])

    assert re.match(r"cannot load a list into scratch table `t` of a \w+ workspace",
                    str(raised.value))
    assert "Arrow table or record batch reader" in str(raised.value)


def test_a_kind_keeps_the_stored_type_and_refuses_a_value_it_cannot_hold(
    engine: Engine, tmp_path: Path
) -> None:
    """Type widening: a batch whose column is wider (int64) than the table's (int32) is
    written in the table's type; a value the stored type cannot hold is refused and the
    table keeps its version. The table's type never changes under a kind."""
    target = Target(str(tmp_path / "t"), None, "gold.t")
    narrow = pa.table({"id": pa.array([1, 2], pa.int32()), "v": pa.array([1, 2], pa.int32())})
    wide = pa.table({"id": pa.array([2, 3], pa.int32()), "v": pa.array([20, 30], pa.int64())})
    too_big = pa.table({"id": pa.array([4], pa.int32()), "v": pa.array([2**40], pa.int64())})
    spec = MergeSpec(keys=("id",))
    with closing(engine.workspace()) as ws:
        merge(target, narrow, spec, workspace=ws)
        assert merge(target, wide, spec, workspace=ws).version == 1
        with pytest.raises(StorageError) as raised:
            merge(target, too_big, spec, workspace=ws)

    assert str(raised.value).startswith("writing `gold.t` failed:")
    assert "1099511627776" in str(raised.value)  # the value, in delta-rs's words
    table = DeltaTable(target.uri)
    assert table.version() == 1
    assert table.schema().to_arrow().field("v").type == pa.int32()
    assert sorted(table.to_pyarrow_table().to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "v": 1}, {"id": 2, "v": 20}, {"id": 3, "v": 30}]


def test_a_merge_rewrites_only_the_files_its_keys_fall_in(engine: Engine, tmp_path: Path
                                                           ) -> None:
    """The touched key ranges are computed in the engine's workspace (a range join)."""
    target, spec = Target(str(tmp_path / "t"), name="silver.t"), MergeSpec(keys=("id",))
    with closing(engine.workspace()) as ws:
        for start in (0, 100):  # two files: ids 0-9 and 100-109
            ids = list(range(start, start + 10))
            merge(target, pa.table({"id": ids, "v": [f"v{i}" for i in ids]}), spec,
                  workspace=ws)
        merge(target, pa.table({"id": [105, 500], "v": ["x", "y"]}), spec, workspace=ws)
    table = DeltaTable(target.uri)
    assert table.history(1)[0]["operationMetrics"]["num_target_files_removed"] == 1
    rows = dict(zip(*(c.to_pylist() for c in table.to_pyarrow_table(columns=["id", "v"])
                      .columns), strict=True))
    assert (len(rows), rows[105], rows[500], rows[5]) == (21, "x", "y", "v5")


def test_a_session_merge_bridges_two_stored_sessions_in_one_commit(
    engine: Engine, tmp_path: Path
) -> None:
    """`session_gap` (transform/sessions.py): a late event closer than the gap to two
    stored sessions of a key merges them, in the engine's own SQL."""
    target = Target(str(tmp_path / "s"), None, "gold.s")
    spec = MergeSpec(keys=("u", "session_start"), combine=(("n", "sum"),),
                     session_gap=300.0)
    at = [datetime(2026, 1, 5, 10, m) for m in (0, 4, 8, 20)]
    first = pa.table({"u": ["a", "a", "b"], "session_start": [at[0], at[2], at[3]],
                      "session_end": [at[0], at[2], at[3]], "n": [1, 2, 4]})
    bridge = pa.table({"u": ["a"], "session_start": [at[1]], "session_end": [at[1]],
                       "n": [8]})
    with closing(engine.workspace()) as ws:
        merge(target, first, spec, workspace=ws)  # a: 10:00 and 10:08 (8 >= 0 + 5)
        merge(target, bridge, spec, workspace=ws)  # 10:04 is within 5 minutes of both
    assert DeltaTable(target.uri).to_pyarrow_table().sort_by("u").to_pylist() == [
        {"u": "a", "session_start": at[0], "session_end": at[2], "n": 11},
        {"u": "b", "session_start": at[3], "session_end": at[3], "n": 4}]


def test_a_merge_with_combine_folds_new_values_into_the_stored_row(
    engine: Engine, tmp_path: Path
) -> None:
    """`combine` (stream windows updated in place): sum, min and max of the stored and the
    new value of a key, in the engine's own SQL."""
    target = Target(str(tmp_path / "w"), None, "gold.w")
    spec = MergeSpec(keys=("k",), combine=(("n", "sum"), ("lo", "min"), ("hi", "max")))
    first = pa.table({"k": ["a"], "n": [2], "lo": [5], "hi": [5]})
    second = pa.table({"k": ["a", "b"], "n": [3, 1], "lo": [1, 7], "hi": [9, 7]})
    with closing(engine.workspace()) as ws:
        merge(target, first, spec, workspace=ws)
        merge(target, second, spec, workspace=ws)
    assert DeltaTable(target.uri).to_pyarrow_table().sort_by("k").to_pylist() == [
        {"k": "a", "n": 5, "lo": 1, "hi": 9}, {"k": "b", "n": 1, "lo": 7, "hi": 7}]
