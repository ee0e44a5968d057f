"""A pruned merge: only the files whose key range holds a key of the source are read and
rewritten, and the table is the same as after an unpruned merge of the same sources."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable
from tests.transform.helpers import plain, table_of

from afluente.errors import AfluenteError
from afluente.storage.file_stats import key_ranges
from afluente.transform import ChangeFeedSpec, MergeSpec, Target, apply_changes, merge

SPEC = MergeSpec(keys=("id", "line"), delete_when="op = 'D'", except_columns=("op",))
COLUMNS = "id, line, v"
# three batches of new keys: each MERGE of keys beyond the table writes one new file
BATCHES = [range(0, 40), range(100, 140), range(200, 240)]
# then: updates of old keys in the first and second files, a delete in the second, a
# re-sent unchanged row in the third, new keys after and between the files' ranges
CHANGES = [
    (5, "U", "five"), (6, "U", "six"), (120, "D", ""), (121, "U", "x"), (230, "U", "v230"),
    (500, "U", "new"), (60, "U", "between"),
]


def rows(keys: list[int], ops: list[str], values: list[str]) -> pa.Table:
    return pa.table({"id": pa.array(keys, pa.int64()), "line": [k % 3 for k in keys],
                     "v": values, "op": ops})


def batch(keys: range) -> pa.Table:
    return rows(list(keys), ["U"] * len(keys), [f"v{k}" for k in keys])


def changes() -> pa.Table:
    keys, ops, values = zip(*CHANGES, strict=True)
    return rows(list(keys), list(ops), list(values))


def files(target: Target) -> set[str]:
    return set(DeltaTable(target.uri).file_uris())


def built(path: Path, prune: bool, monkeypatch: pytest.MonkeyPatch) -> Target:
    target = Target(str(path), name="silver.lines")
    with monkeypatch.context() as patched:
        if not prune:  # the statistics bound nothing: the MERGE reads every file
            patched.setattr(Target, "key_ranges", lambda self, column: None)
        for keys in BATCHES:
            merge(target, batch(keys), SPEC)
        merge(target, changes(), SPEC)
    return target


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Target, Target]:
    root = tmp_path_factory.mktemp("pruning")
    with pytest.MonkeyPatch.context() as monkeypatch:
        return built(root / "pruned", True, monkeypatch), built(root / "whole", False,
                                                                 monkeypatch)


def test_pruned_merge_equals_the_unpruned_one(pair: tuple[Target, Target]) -> None:
    pruned, whole = pair
    assert plain(pruned, COLUMNS) == plain(whole, COLUMNS)
    content = plain(pruned, COLUMNS)
    assert (5, 2, "five") in content and (230, 2, "v230") in content
    assert (500, 2, "new") in content and (60, 0, "between") in content
    assert not any(r[0] == 120 for r in content)
    assert len(content) == 3 * 40 - 1 + 2  # one key deleted, two inserted


def test_only_the_files_holding_a_source_key_are_rewritten(pair: tuple[Target, Target]
                                                           ) -> None:
    pruned, whole = pair
    for target in (pruned, whole):  # the third file's row was re-sent unchanged
        metrics = DeltaTable(target.uri).history(1)[0]["operationMetrics"]
        assert metrics["num_target_files_removed"] == 2
    predicate = DeltaTable(pruned.uri).history(1)[0]["operationParameters"]["predicate"]
    assert predicate.count("id >= ") == 3  # the three files' ranges, nothing between
    assert "id <= 39 " in predicate and "id <= 239" in predicate


def test_new_keys_beyond_every_file_rewrite_nothing(tmp_path: Path) -> None:
    target = Target(str(tmp_path / "t"), name="silver.lines")
    merge(target, batch(range(0, 50)), SPEC)
    before = files(target)
    result = merge(target, batch(range(1000, 1010)), SPEC)
    assert result.upserted == 10
    assert before < files(target)  # the old file kept, one file added
    predicate = DeltaTable(target.uri).history(1)[0]["operationParameters"]["predicate"]
    assert predicate.endswith("false")  # no stored row can match: nothing is read


def test_first_version_is_ordered_by_the_key(tmp_path: Path) -> None:
    target = Target(str(tmp_path / "t"), name="silver.lines")
    merge(target, batch(range(99, -1, -1)), SPEC)
    ids = DeltaTable(target.uri).to_pyarrow_table()["id"].to_pylist()
    assert ids == sorted(ids)
    assert list(key_ranges(DeltaTable(target.uri), "id").values()) == [(0, 99)]


def test_bad_source_leaves_a_multi_file_table_unchanged(tmp_path: Path) -> None:
    target = Target(str(tmp_path / "t"), name="silver.lines")
    for keys in BATCHES:
        merge(target, batch(keys), SPEC)
    version, before = DeltaTable(target.uri).version(), plain(target, COLUMNS)
    with pytest.raises(AfluenteError, match="duplicate") as raised:
        merge(target, rows([5, 5, 120], ["U", "U", "U"], ["a", "b", "c"]), SPEC)
    assert "silver.lines" in str(raised.value)
    assert DeltaTable(target.uri).version() == version
    assert plain(target, COLUMNS) == before


def test_key_ranges_bound_nothing_without_usable_statistics(tmp_path: Path) -> None:
    from deltalake import write_deltalake

    long = "k" * 40
    write_deltalake(str(tmp_path / "s"), pa.table({"k": ["a", long]}))
    assert key_ranges(DeltaTable(str(tmp_path / "s")), "k") is None  # may be truncated
    write_deltalake(str(tmp_path / "n"), pa.table({"k": pa.array([None, None], pa.int64())}))
    write_deltalake(str(tmp_path / "n"), pa.table({"k": pa.array([3, 7], pa.int64())}),
                    mode="append")
    ranges = key_ranges(DeltaTable(str(tmp_path / "n")), "k")
    assert list(ranges.values()) == [(3, 7)]  # the all-NULL file holds no key
    assert key_ranges(DeltaTable(str(tmp_path / "n")), "missing") is None


FEED = ChangeFeedSpec(keys=("id",), sequence_by="seq", apply_as_deletes="op = 'D'",
                      except_columns=("op",), scd_type=2, track_history_columns=("v",))


def events(keys: range, seq: int, v: str, op: str = "U") -> pa.Table:
    return table_of([{"id": k, "seq": seq, "op": op, "v": f"{v}{k}", "w": k} for k in keys])


LATE = [
    {"id": 5, "seq": 1, "op": "U", "v": "late", "w": 0},  # older than the stored version
    {"id": 6, "seq": 20, "op": "U", "v": "b6", "w": 6},  # a new version
    {"id": 120, "seq": 21, "op": "D", "v": None, "w": 0},  # a delete
    {"id": 999, "seq": 22, "op": "U", "v": "n", "w": 1},  # a new key
]


def scd2(path: Path, prune: bool) -> tuple[Target, list[object]]:
    """Three batches of keys (three files), then late, changed and deleting events for keys
    of two of them; what the last apply asked the target to expose."""
    target, opened = Target(str(path), name="silver.customers"), []
    real = Target.dataset

    def dataset(self: Target, within: object = None) -> object:
        opened.append(within)
        return real(self, within)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patched:
        if not prune:  # the statistics bound nothing: every file is read
            patched.setattr(Target, "key_ranges", lambda self, column: None)
        for number, keys in enumerate(BATCHES):
            apply_changes(target, events(keys, 10 + number, "a"), FEED)
        patched.setattr(Target, "dataset", dataset)
        apply_changes(target, table_of(LATE), FEED)
    return target, opened


def test_apply_changes_reads_only_the_files_of_its_keys(tmp_path: Path) -> None:
    pruned, opened = scd2(tmp_path / "pruned", True)
    whole, opened_whole = scd2(tmp_path / "whole", False)
    assert plain(pruned, "*") == plain(whole, "*")
    column, ranges = opened[0]  # type: ignore[misc]
    assert (column, sorted(ranges)) == ("id", [(0, 39), (100, 139)])
    assert opened_whole[0] is None
    stored = plain(pruned, "id, v, w")
    assert {(6, "b6", 6), (6, "a6", 6), (999, "n", 1), (5, "late", 0)} <= stored
