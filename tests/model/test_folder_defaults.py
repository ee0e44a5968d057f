"""Folder-level model defaults: `models: {<layer>: ...}` in afluente.yml and `_defaults.yml`
files, under a model's own config; and their effect on fingerprints."""

from __future__ import annotations

import pytest

from afluente.errors import ConfigError, Location
from afluente.model import TableRef
from afluente.runtime import plan_project, run_project

from .conftest import ProjectTree
from .test_model_config import MODEL_KEYS

SILVER_CUSTOMERS = TableRef("silver", "customers")
SILVER_ORDERS = TableRef("silver", "orders")
GOLD_STATE = TableRef("gold", "revenue_by_state")
GOLD_MONTHLY = TableRef("gold", "monthly_revenue")


def with_models_key(starter: ProjectTree, block: str) -> ProjectTree:
    """The starter's afluente.yml with `block` (a `models:` mapping) appended."""
    text = starter.path("afluente.yml").read_text(encoding="utf-8")
    return starter.write({"afluente.yml": text + block})


def test_project_layer_default_applies_to_every_model_of_the_layer(starter: ProjectTree) -> None:
    block = "models:\n  silver:\n    kind: view\n    owner: data\n"
    graph = with_models_key(starter, block).graph()

    assert [graph[r].kind for r in (SILVER_CUSTOMERS, SILVER_ORDERS)] == ["view", "view"]
    assert graph[SILVER_ORDERS].config.owner == "data"
    assert graph[GOLD_STATE].kind == "full"
    assert starter.load().models_dir == starter.path("models")


def test_models_key_still_takes_the_folder_as_a_string_or_path(starter: ProjectTree) -> None:
    starter.path("models").rename(starter.path("transforms"))
    with_models_key(starter, "models: transforms\n")

    assert starter.graph()[SILVER_ORDERS].language == "sql"

    text = starter.path("afluente.yml").read_text(encoding="utf-8")
    starter.write({"afluente.yml": text.replace(
        "models: transforms\n", "models:\n  path: transforms\n  gold: {owner: bi}\n")})

    assert starter.graph()[GOLD_STATE].config.owner == "bi"


def test_precedence_model_over_folder_file_over_parent_folder_over_project(
    starter: ProjectTree,
) -> None:
    with_models_key(starter, "models:\n  gold: {kind: view, owner: project, retries: 1}\n")
    starter.write({
        "models/_defaults.yml": "owner: models_root\nretries: 2\n",
        "models/gold/_defaults.yml": "owner: gold_folder\ntags: [folder]\n",
        "models/gold/finance/_defaults.yml": "tags: [deep]\n",
        "models/gold/finance/margin.sql":
            "/* @config\nowner: model\nkind: full\n*/\nSELECT 1 AS a\n",
    })

    graph = starter.graph()
    margin = graph[TableRef("gold", "margin")]
    state = graph[GOLD_STATE]

    assert (margin.kind, margin.config.owner, margin.config.retries) == ("full", "model", 2)
    assert margin.config.tags == ("folder", "deep")
    assert (state.kind, state.config.owner, state.config.retries) == ("view", "gold_folder", 2)
    # tags add up: the folder's, then the model's own
    assert state.config.tags == ("folder", "finance")


def test_defaults_apply_to_python_models_and_sidecars(starter: ProjectTree) -> None:
    starter.write({
        "models/gold/_defaults.yml": "owner: bi\nretries: 3\n",
        "models/gold/h.sql": "SELECT 1 AS a\n",
        "models/gold/h.yml": "retries: 0\n",
    })

    graph = starter.graph()

    assert (graph[GOLD_MONTHLY].config.owner, graph[GOLD_MONTHLY].config.retries) == ("bi", 3)
    assert graph[TableRef("gold", "h")].config.retries == 0


def test_kind_keys_of_a_default_are_left_out_when_the_model_picks_another_kind(
    starter: ProjectTree,
) -> None:
    starter.write({
        "models/silver/_defaults.yml": "kind: merge\nunique_key: customer_id\n",
        "models/silver/orders.yml": "kind: full\n",
    })
    text = starter.path("models/silver/orders.sql").read_text(encoding="utf-8")
    starter.write({"models/silver/orders.sql": text.split("*/\n", 1)[1]})

    graph = starter.graph()

    assert (graph[SILVER_CUSTOMERS].kind, graph[SILVER_CUSTOMERS].config.unique_key) == (
        "merge", ("customer_id",))
    assert (graph[SILVER_ORDERS].kind, graph[SILVER_ORDERS].config.unique_key) == ("full", None)


def test_typo_in_a_defaults_file_names_its_line_and_the_close_key(starter: ProjectTree) -> None:
    starter.write({"models/silver/_defaults.yml": "kind: view\nownr: data\n"})

    error = starter.error(ConfigError)

    assert error.message == "unknown key `ownr`"
    assert error.location == Location(starter.path("models/silver/_defaults.yml"), 2)
    assert error.hint == f"did you mean `owner`? {MODEL_KEYS}"


def test_a_bad_value_in_a_defaults_file_is_reported_even_with_no_model_under_it(
    starter: ProjectTree,
) -> None:
    starter.write({"models/gold/drafts/_defaults.yml": "\nkind: veiw\n"})

    error = starter.error(ConfigError)

    assert error.message == "invalid value 'veiw' for `kind`"
    assert error.location == Location(starter.path("models/gold/drafts/_defaults.yml"), 2)


def test_typo_in_afluente_yml_models_key(starter: ProjectTree) -> None:
    with_models_key(starter, "models:\n  sliver:\n    kind: view\n")

    error = starter.error(ConfigError)

    assert error.message == "unknown key `models.sliver`"
    assert error.location == Location(starter.path("afluente.yml"), 17)
    assert error.hint is not None and error.hint.startswith("did you mean `silver`?")


def test_typo_inside_a_project_layer_default(starter: ProjectTree) -> None:
    with_models_key(starter, "models:\n  silver:\n    knd: view\n")

    error = starter.error(ConfigError)

    assert error.message == "unknown key `models.silver.knd`"
    assert error.location == Location(starter.path("afluente.yml"), 18)
    assert error.hint == f"did you mean `kind`? {MODEL_KEYS}"


def test_a_merged_config_error_points_at_the_file_that_set_the_key(starter: ProjectTree) -> None:
    starter.write({
        "models/gold/_defaults.yml": "kind: merge\n",
        "models/gold/h.sql": "/* @config\nunique_key: [a]\nretries: -1\n*/\nSELECT 1 AS a\n",
    })

    error = starter.error(ConfigError)

    assert error.message == "`retries`: Input should be greater than or equal to 0"
    assert error.location == Location(starter.path("models/gold/h.sql"), 3)


def test_a_kind_from_a_default_still_needs_its_keys_in_the_model(starter: ProjectTree) -> None:
    starter.write({
        "models/gold/_defaults.yml": "kind: merge\n",
        "models/gold/h.sql": "SELECT 1 AS a\n",
    })

    error = starter.error(ConfigError)

    assert error.message == "kind `merge` needs `unique_key`"
    assert error.location == Location(starter.path("models/gold/h.sql"), 1)


def test_a_default_that_is_not_a_mapping(starter: ProjectTree) -> None:
    with_models_key(starter, "models:\n  silver: view\n")

    error = starter.error(ConfigError)

    assert error.message == "`models.silver` must be a mapping of keys"
    assert error.location == Location(starter.path("afluente.yml"), 17)


def test_fingerprints_change_only_where_the_effective_config_changes(
    starter: ProjectTree,
) -> None:
    before = starter.graph().fingerprints

    # a default the models already had, and one for a layer with no model: nothing changes
    starter.write({"models/silver/_defaults.yml": "kind: full\n"})
    with_models_key(starter, "models:\n  bronze:\n    owner: nobody\n")
    assert starter.graph().fingerprints == before

    # a default for gold: gold models change, silver ones do not
    starter.write({"models/gold/_defaults.yml": "retries: 2\n"})
    after_gold = starter.graph().fingerprints
    changed = {str(r) for r in before if before[r] != after_gold[r]}
    assert changed == {"gold.monthly_revenue", "gold.revenue_by_state"}

    # editing the silver default rebuilds silver and, through them, gold
    starter.write({"models/silver/_defaults.yml": "kind: view\n"})
    after_silver = starter.graph().fingerprints
    changed = {str(r) for r in before if after_gold[r] != after_silver[r]}
    assert changed == {
        "silver.customers", "silver.orders", "gold.monthly_revenue", "gold.revenue_by_state"}


def test_a_run_rebuilds_only_the_models_a_changed_default_applies_to(
    starter: ProjectTree,
) -> None:
    assert run_project(starter.load()).status == "success"
    starter.write({"models/silver/_defaults.yml": "owner: data\n"})
    with_models_key(starter, "models:\n  gold: {}\n")  # a default with no key: no change

    steps = {str(s.ref): (s.action, s.reason) for s in plan_project(starter.load()).plan.steps}

    assert {name for name, (action, _) in steps.items() if action == "run"} == {
        "silver.customers", "silver.orders", "gold.monthly_revenue", "gold.revenue_by_state"}
    assert steps["silver.orders"][1] == "definition changed since the last build"
    assert steps["bronze.orders"][0] == "skip"


@pytest.mark.parametrize("name", ["_default.yml", "_defaults.yaml", "defaults.yml"])
def test_a_misnamed_defaults_file_is_an_error_not_silently_ignored(
    starter: ProjectTree, name: str
) -> None:
    starter.write({f"models/silver/{name}": "kind: view\n"})

    error = starter.error(ConfigError)

    assert error.message == f"`{name}` is not read: folder defaults go in `_defaults.yml`"
    assert error.location == Location(starter.path(f"models/silver/{name}"))


def test_a_sidecar_named_like_the_defaults_file_is_a_sidecar(starter: ProjectTree) -> None:
    starter.write({
        "models/silver/defaults.sql": "SELECT 1 AS a\n",
        "models/silver/defaults.yml": "kind: view\n",
    })

    assert starter.graph()[TableRef("silver", "defaults")].kind == "view"
