"""Merge: upsert, deletes, commit metadata; every bad input leaves the target as it was."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from deltalake import DeltaTable
from tests.transform.helpers import plain, version

from afluente.engines.duckdb_workspace import DuckDBWorkspace
from afluente.transform import (
    CommitDescription,
    DuplicateKeyError,
    KindSpecError,
    MergeSpec,
    NullKeyError,
    Target,
    merge,
)

SPEC = MergeSpec(keys=("id", "region"), delete_when="op = 'D'", except_columns=("op",))


def rows(ids: list[int | None], values: list[str], ops: list[str] | None = None) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "region": ["n"] * len(ids),
            "v": values,
            "op": ops or ["U"] * len(ids),
        }
    )


@pytest.fixture
def target(tmp_path: Path) -> Target:
    target = Target(str(tmp_path / "orders"), name="silver.orders")
    merge(target, rows([1, 2, 3], ["a", "b", "c"]), SPEC)
    return target


def test_upsert_and_delete_by_compound_key_in_one_commit(target: Target) -> None:
    commit = CommitDescription(run_id="r-2", model="silver.orders")
    result = merge(target, rows([1, 2, 4], ["A", "x", "d"], ["U", "D", "U"]), SPEC, commit=commit)
    assert (result.version, result.upserted, result.deleted) == (1, 2, 1)
    assert plain(target, "id, region, v") == {(1, "n", "A"), (3, "n", "c"), (4, "n", "d")}
    last = DeltaTable(target.uri).history(1)[0]
    assert (last["operation"], last["afluente.run_id"]) == ("MERGE", "r-2")


def test_reapplying_the_same_source_makes_no_version(target: Target) -> None:
    assert merge(target, rows([1, 2, 3], ["a", "b", "c"]), SPEC).version is None
    assert version(target) == 0


def test_source_may_be_a_duckdb_relation(target: Target) -> None:
    con = duckdb.connect()
    relation = con.sql("SELECT 9::BIGINT AS id, 'n' AS region, 'z' AS v, 'U' AS op")
    merge(target, relation, SPEC)
    assert (9, "n", "z") in plain(target, "id, region, v")


def test_duplicate_keys_fail_naming_key_and_values_and_leave_target(target: Target) -> None:
    with pytest.raises(DuplicateKeyError) as caught:
        merge(target, rows([5, 5, 6, 6, 6], ["a", "b", "c", "d", "e"]), SPEC)
    message = str(caught.value)
    assert "silver.orders" in message and "unique key (id, region)" in message
    assert "id=6, region='n' (3 rows)" in message and "id=5, region='n' (2 rows)" in message
    assert "dedupe_by" in (caught.value.hint or "")
    assert version(target) == 0


def test_dedupe_by_keeps_the_latest_row_per_key(target: Target) -> None:
    source = rows([1, 1, 1], ["old", "newest", "mid"]).append_column("seq", pa.array([1, 3, 2]))
    spec = MergeSpec(keys=("id", "region"), dedupe_by="seq", except_columns=("op", "seq"))
    merge(target, source, spec)
    assert (1, "n", "newest") in plain(target, "id, region, v")


def test_null_keys_fail_by_default_and_leave_target(target: Target) -> None:
    with pytest.raises(NullKeyError, match="1 source row"):
        merge(target, rows([None, 7], ["x", "y"]), SPEC)
    assert version(target) == 0


def test_null_keys_can_be_quarantined(target: Target) -> None:
    spec = MergeSpec(keys=SPEC.keys, except_columns=("op",), on_null_key="quarantine")
    result = merge(target, rows([None, 7], ["x", "y"]), spec)
    assert result.quarantined is not None and result.quarantined.column("v").to_pylist() == ["x"]
    assert (7, "n", "y") in plain(target, "id, region, v")


def test_unknown_key_column_is_a_spec_error(target: Target) -> None:
    with pytest.raises(KindSpecError, match="unique_key column\\(s\\) customer_id not in"):
        merge(target, rows([1], ["a"]), MergeSpec(keys=("customer_id",)))


def test_a_failing_write_leaves_the_previous_version(target: Target) -> None:
    bad = pa.table({"id": pa.array([1], pa.int64()), "region": ["n"], "v": [1.5], "op": ["U"]})
    bad = bad.append_column("extra", pa.array([1]))
    with pytest.raises(Exception, match=r"silver\.orders"):
        merge(target, bad, SPEC)
    assert version(target) == 0
    assert plain(target, "id, v") == {(1, "a"), (2, "b"), (3, "c")}


def test_relation_on_the_callers_connection(target: Target) -> None:
    con = duckdb.connect()
    relation = con.sql("SELECT 8::BIGINT AS id, 'n' AS region, 'y' AS v, 'U' AS op")
    assert merge(target, relation, SPEC, workspace=DuckDBWorkspace.sharing(con)).upserted == 1
    assert (8, "n", "y") in plain(target, "id, region, v")


def test_combine_folds_new_values_into_the_stored_ones(tmp_path: Path) -> None:
    target = Target(str(tmp_path / "totals"), name="gold.totals")
    spec = MergeSpec(keys=("k",), combine=(("n", "sum"), ("lo", "min"), ("hi", "max")))

    def batch(ks: list[str], n: list[int | None], lo: list[int], hi: list[int]) -> pa.Table:
        return pa.table({"k": ks, "n": pa.array(n, pa.int64()), "lo": lo, "hi": hi})

    merge(target, batch(["a", "b"], [2, None], [5, 5], [5, 5]), spec)
    result = merge(target, batch(["a", "b", "c"], [3, 4, 1], [1, 9, 7], [9, 1, 7]), spec)
    assert (result.upserted, result.deleted) == (3, 0)
    assert plain(target, "k, n, lo, hi") == {("a", 5, 1, 9), ("b", 4, 5, 5), ("c", 1, 7, 7)}


def test_combine_of_a_column_the_source_lacks_is_an_error(target: Target) -> None:
    spec = MergeSpec(keys=("id", "region"), except_columns=("op",), combine=(("nope", "sum"),))
    with pytest.raises(KindSpecError, match="nope"):
        merge(target, rows([1], ["a"]), spec)
    assert version(target) == 0
