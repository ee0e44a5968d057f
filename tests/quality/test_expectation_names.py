"""Expectations declared without a `name` get a readable one, stable while the rule is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from afluente.config import load_project
from afluente.errors import ConfigError, Location
from afluente.quality.rules import parse_expectations
from afluente.runtime import run_project
from afluente.runtime.query import query_project

WHERE = Location(Path("models/silver/people.sql"), 1)


def names(*entries: dict[str, Any]) -> list[str]:
    return [e.name for e in parse_expectations(entries, WHERE, "silver.people")]


def test_column_rules_are_named_by_rule_and_columns() -> None:
    assert names(
        {"not_null": "customer_id"},
        {"not_null": ["name", "e-mail"]},
        {"unique": ["order_id", "item_seq"]},
    ) == ["not_null_customer_id", "not_null_name_e_mail", "unique_order_id_item_seq"]


def test_rules_with_arguments_end_with_a_digest_of_them() -> None:
    between, accepted, row_count = names(
        {"between": {"column": "age", "min": 18, "max": 120}},
        {"accepted_values": {"column": "uf", "values": ["SP", "RJ"]}},
        {"row_count": {"min": 1}},
    )

    assert between.startswith("between_age_") and len(between) == len("between_age_") + 6
    assert accepted.startswith("accepted_values_uf_")
    assert row_count.startswith("row_count_") and len(row_count) == len("row_count_") + 6


def test_the_name_changes_with_the_rule_only() -> None:
    base = {"between": {"column": "age", "min": 18, "max": 120}}
    [name] = names(base)

    # same rule written differently, or with another action, mostly or description
    assert names({"between": {"max": 120.0, "column": "age", "min": 18.0}}) == [name]
    assert names({**base, "action": "drop", "mostly": 0.9, "description": "adults"}) == [name]
    # reordering and adding unrelated expectations keeps it
    assert names({"not_null": "id"}, base, {"unique": "id"})[1] == name
    # changing what is checked changes it
    assert names({"between": {"column": "age", "min": 21, "max": 120}}) != [name]
    assert names({"between": {"column": "idade", "min": 18, "max": 120}})[0].startswith(
        "between_idade_")


def test_generated_names_are_unique_in_the_model_and_yield_to_declared_ones() -> None:
    assert names(
        {"not_null": "id", "action": "warn", "mostly": 0.99},
        {"not_null": "id", "action": "fail", "mostly": 0.9},
        {"name": "not_null_email", "format": {"column": "email", "as": "email"}},
        {"not_null": "email"},
    ) == ["not_null_id", "not_null_id_2", "not_null_email", "not_null_email_2"]


def test_declared_names_must_still_be_unique() -> None:
    with pytest.raises(ConfigError) as caught:
        names({"name": "x", "not_null": "id"}, {"name": "x", "unique": "id"})

    assert caught.value.message == "expectation names must be unique in a model: x repeats"
    assert caught.value.location == WHERE


def test_a_run_records_results_under_the_generated_names(
    make_project: Callable[..., Path],
) -> None:
    root = make_project("  - {not_null: name}\n  - {unique: id, action: warn}")

    assert run_project(load_project(root)).status == "success"
    table = query_project(
        load_project(root), "SELECT rule, rows_failed FROM afluente.quality_results ORDER BY rule"
    )
    assert table.to_pylist() == [
        {"rule": "not_null_name", "rows_failed": 1},
        {"rule": "unique_id", "rows_failed": 2},
    ]



def test_generated_names_are_pinned_so_results_history_survives_upgrades() -> None:
    # the value docs/quality.md and docs/coming-from-dbt.md show; a change here renames
    # every unnamed expectation of every project
    assert names({"between": {"column": "age", "min": 18}}) == ["between_age_63a7be"]
