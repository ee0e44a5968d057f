"""A changed model against its base: breaking or not, and the column-level diff of its SQL
(pure: two recorded definitions in, a classification out)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from afluente.runtime.env_changes import classify
from afluente.runtime.env_diff import _key_diff

BASE = """/* @config
description: Orders.
*/
SELECT CAST(order_id AS INTEGER) AS order_id, amount * 2 AS doubled
FROM bronze.orders WHERE amount > 0"""


def sql_model(sql: str, config: dict[str, Any] | None = None,
              described: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"fingerprint": str(hash((sql, str(config), str(described)))), "language": "sql",
            "sql": sql, "code": None, "config": config or {"columns": {}},
            "described": described or {"columns": {}}}


@pytest.mark.parametrize(("new", "category", "added", "removed", "modified"), [
    (BASE.replace("AS doubled", "AS doubled, amount AS raw"), "non-breaking", ["raw"], [], []),
    (BASE.replace("amount * 2", "amount * 3"), "breaking", [], [], ["doubled"]),
    (BASE.replace(", amount * 2 AS doubled", ""), "breaking", [], ["doubled"], []),
    (BASE.replace("> 0", ">= 0"), "breaking", [], [], []),
    (BASE.replace("Orders.", "Every order, typed."), "non-breaking", [], [], []),
    (BASE.replace("SELECT", "SELECT DISTINCT").replace("AS doubled", "AS doubled, 1 AS one"),
     "breaking", ["one"], [], []),
])
def test_sql_changes_are_classified(new: str, category: str, added: list[str],
                                    removed: list[str], modified: list[str]) -> None:
    old = BASE.replace("SELECT", "SELECT DISTINCT") if "DISTINCT" in new else BASE
    found = classify("silver.orders", sql_model(old), sql_model(new))
    assert found.category == category, found.reason
    assert found.columns.as_dict() == {"added": added, "removed": removed,
                                       "modified": modified}


def test_description_only_change_is_non_breaking() -> None:
    found = classify("silver.orders", sql_model(BASE, described={"description": "a"}),
                     sql_model(BASE, described={"description": "b"}))
    assert (found.category, found.reason) == ("non-breaking", "descriptions changed")


def test_config_that_shapes_data_is_breaking() -> None:
    found = classify("silver.orders", sql_model(BASE, {"kind": "full", "columns": {}}),
                     sql_model(BASE, {"kind": "merge", "unique_key": ["order_id"],
                                      "columns": {}}))
    assert found.category == "breaking"
    assert found.reason == "config changed: kind, unique_key"


def test_a_model_missing_from_the_base_is_new() -> None:
    assert classify("gold.new", None, sql_model(BASE)).category == "new"


def test_rows_are_matched_by_key() -> None:
    before = pa.table({"id": [1, 2, 3], "v": ["a", "b", None], "w": [1, 1, 1]})
    after = pa.table({"id": [2, 3, 4], "v": ["b", "c", "d"], "w": [1, 2, 1]})
    found = _key_diff(before, after, ("id",))
    assert found == {"key": ("id",), "matched": 2, "only_base": 1, "only_env": 1,
                     "changed": {"v": 1, "w": 1}}
