"""The kind objects: one per kind of the config schema, and what they say about each kind."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from afluente.model.kinds import KIND_KEYS, KINDS, RESERVED_COLUMNS, kind_named
from afluente.model.model_config import ModelConfig, ModelKind, NodeKind


def test_every_kind_of_the_config_schema_has_an_object() -> None:
    schema_kinds = get_args(ModelConfig.model_fields["kind"].annotation)
    assert set(schema_kinds) == set(get_args(ModelKind))
    assert set(get_args(NodeKind)) == set(KINDS)
    for name in schema_kinds:
        assert kind_named(name).name == name


def test_the_json_schema_of_kind_lists_only_registered_kinds() -> None:
    choices = ModelConfig.model_json_schema()["properties"]["kind"]["enum"]
    assert set(choices) <= set(KINDS)


def test_materialized_and_incremental() -> None:
    assert [k for k in KINDS.values() if not k.materialized] == [KINDS["view"]]
    incremental = {k.name for k in KINDS.values() if k.incremental}
    assert incremental == {"append", "merge", "time_range", "apply_changes", "snapshot"}
    assert {k.name for k in KINDS.values() if k.full_read_rebuilds} == {"append", "time_range"}


def test_key_columns_come_from_the_kinds_own_key() -> None:
    merge = ModelConfig(kind="merge", unique_key=("id",))
    snapshot = ModelConfig(kind="snapshot", keys=("a", "b"))
    changes = ModelConfig(kind="apply_changes", keys=("k",), sequence_by="seq")
    assert merge.table_kind.key_columns(merge) == ("id",)
    assert snapshot.table_kind.key_columns(snapshot) == ("a", "b")
    assert changes.table_kind.key_columns(changes) == ("k",)
    assert KINDS["full"].key_columns(ModelConfig()) == ()


def test_bookkeeping_columns() -> None:
    scd2 = ModelConfig(kind="apply_changes", keys=("k",), sequence_by="seq", scd_type=2)
    scd1 = ModelConfig(kind="apply_changes", keys=("k",), sequence_by="seq")
    assert scd2.table_kind.added_columns(scd2, {"seq": "BIGINT"}) == {
        "valid_from": "BIGINT", "valid_to": "BIGINT", "is_current": "BOOLEAN"}
    assert scd1.table_kind.added_columns(scd1, {"seq": "BIGINT"}) == {}
    snapshot = ModelConfig(kind="snapshot", keys=("k",))
    assert snapshot.table_kind.added_columns(snapshot, {})["valid_from"] == "TIMESTAMP"
    ranged = ModelConfig(kind="time_range", time_column="at", partition_by="month")
    assert ranged.table_kind.partition_column(ranged) == "_partition_month"
    assert KINDS["merge"].partition_column(ModelConfig(kind="merge", unique_key=("id",))) is None
    assert KINDS["apply_changes"].visible_column == "__cdc_visible"
    assert KINDS["merge"].visible_column is None
    assert {"__cdc_visible", "valid_to"} <= RESERVED_COLUMNS


def test_kind_keys_name_every_kind_that_accepts_them() -> None:
    assert KIND_KEYS["except_columns"] == {"apply_changes", "merge"}
    assert KIND_KEYS["on_schema_change"] == {
        "append", "merge", "time_range", "apply_changes", "snapshot"}


@pytest.mark.parametrize(("config", "message"), [
    ({"kind": "full", "unique_key": "id"},
     "`unique_key` does not apply to kind `full` (it is a key of merge, score)"),
    ({"kind": "snapshot"}, "kind `snapshot` needs `keys`"),
    ({"kind": "apply_changes", "keys": "k"}, "kind `apply_changes` needs `sequence_by`"),
    ({"kind": "train"}, "kind `train` needs `label`"),
    ({"kind": "score", "unique_key": "id"}, "kind `score` needs `model`"),
    ({"kind": "full", "label": "y"}, "`label` does not apply to kind `full` (it is a key of "
                                     "train)"),
    ({"kind": "train", "label": "y", "promote_if": {"auc": "high"}},
     "promote_if: auc: 'high' is not a threshold; write a comparison and a number"),
    ({"kind": "score", "unique_key": "id", "model": "gold.m", "version": 2, "alias": "x"},
     "give `version:` or `alias:`, not both"),
])
def test_config_keys_that_do_not_fit_the_kind_are_refused(
    config: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ModelConfig.model_validate(config)
    assert message in str(caught.value)


def test_job_types() -> None:
    assert KINDS["ingest"].job_type == "INGESTION"
    assert KINDS["merge"].job_type == "MODEL"
