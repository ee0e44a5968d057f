"""Per-model config: the `/* @config */` header of a SQL model, or its sidecar `<name>.yml`."""

from __future__ import annotations

from afluente.errors import ConfigError, Location
from afluente.model import TableRef
from afluente.model.header import Header, split_header

from .conftest import ProjectTree

MODEL_KEYS = (
    "valid keys here: alias, apply_as_deletes, closes_at, columns, combine, contract, "
    "dedup_keys, dedupe_by, "
    "delete_when, description, dimensions, engine, entity_key, event_time, except_columns, "
    "expectations, "
    "frame, freshness, holdout, keys, kind, label, late_data, lookback, maintenance, metrics, "
    "model, on_null_key, on_schema_change, owner, "
    "partition_by, promote_if, retention, retention_column, retries, scd_type, seed, "
    "sequence_by, session_gap, "
    "tags, "
    "time_column, timeout, track_columns, track_history_columns, unique_key, version, watermark"
)
GOLD_H = TableRef("gold", "h")


def test_split_header_gives_yaml_and_its_first_file_line() -> None:
    text = "\n\n/* @config\nkind: view\n*/\nSELECT 1\n"

    assert split_header(text) == Header(yaml_text="kind: view\n", first_line=4)


def test_split_header_on_the_opening_line() -> None:
    assert split_header("/* @config kind: view */ SELECT 1") == Header("kind: view ", 1)


def test_a_comment_that_is_not_a_header_or_not_at_the_top_is_ignored() -> None:
    assert split_header("/* plain comment */ SELECT 1") is None
    assert split_header("SELECT 1 /* @config\nkind: view\n*/") is None


def test_header_config_is_applied(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/h.sql": """\
        /* @config
        kind: view
        owner: data-team
        tags: [finance, daily]
        */
        SELECT * FROM silver.orders
        """
        }
    )

    node = starter.graph()[GOLD_H]

    assert node.kind == "view"
    assert not node.materialized
    assert node.config.owner == "data-team"
    assert node.config.tags == ("finance", "daily")


def test_model_without_config_gets_defaults(starter: ProjectTree) -> None:
    starter.write({"models/gold/h.sql": "SELECT * FROM silver.orders\n"})

    node = starter.graph()[GOLD_H]

    assert (node.kind, node.config.tags, node.config.description) == ("full", (), None)


def test_header_key_typo_reports_the_line_inside_the_sql_file(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/h.sql": """\
        /* @config
        description: Revenue.
        knd: full
        */
        SELECT * FROM silver.orders
        """
        }
    )

    error = starter.error(ConfigError)

    assert error.message == "unknown key `knd`"
    assert error.location == Location(starter.path("models/gold/h.sql"), 3)
    assert error.hint == f"did you mean `kind`? {MODEL_KEYS}"


def test_header_line_numbers_count_blank_lines_above_it(starter: ProjectTree) -> None:
    starter.write({"models/gold/h.sql": "\n\n/* @config\nkind: tabel\n*/\nSELECT 1 AS a\n"})

    error = starter.error(ConfigError)

    assert error.message == "invalid value 'tabel' for `kind`"
    assert error.location == Location(starter.path("models/gold/h.sql"), 4)
    assert error.hint == (
        "expected 'full', 'view', 'append', 'merge', 'time_range', 'apply_changes', 'snapshot', "
        "'train' or 'score'"
    )


def test_header_nested_column_key_typo(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/h.sql": """\
        /* @config
        columns:
          revenue:
            descripton: Sum of amounts.
        */
        SELECT 1 AS revenue
        """
        }
    )

    error = starter.error(ConfigError)

    assert error.message == "unknown key `columns.revenue.descripton`"
    assert error.location == Location(starter.path("models/gold/h.sql"), 4)
    assert error.hint == (
        "did you mean `description`? "
        "valid keys here: derived_from, description, mask, tags, transformation, type"
    )


def test_invalid_header_yaml_reports_line_and_column_in_the_sql_file(
    starter: ProjectTree,
) -> None:
    starter.write({"models/gold/h.sql": "/* @config\ndescription: ok\ntags: [a\n*/\nSELECT 1\n"})

    error = starter.error(ConfigError)

    assert error.message == "invalid YAML: expected ',' or ']', but got '<stream end>'"
    assert error.location == Location(starter.path("models/gold/h.sql"), 4, 1)
    assert error.hint == "check indentation and quoting on that line"


def test_header_that_is_not_a_mapping(starter: ProjectTree) -> None:
    starter.write({"models/gold/h.sql": "/* @config\n- kind\n- view\n*/\nSELECT 1\n"})

    error = starter.error(ConfigError)

    assert error.message == "model config must be a mapping of keys"
    assert error.location == Location(starter.path("models/gold/h.sql"), 2)


def test_empty_header_means_defaults(starter: ProjectTree) -> None:
    starter.write({"models/gold/h.sql": "/* @config\n*/\nSELECT 1 AS a\n"})

    assert starter.graph()[GOLD_H].kind == "full"


def test_sidecar_yml_configures_the_sql_model(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/h.sql": "SELECT * FROM silver.orders\n",
            "models/gold/h.yml": "kind: view\ntags: [finance]\n",
        }
    )

    node = starter.graph()[GOLD_H]

    assert (node.kind, node.config.tags) == ("view", ("finance",))


def test_sidecar_typo_points_at_the_sidecar(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/h.sql": "SELECT 1 AS a\n",
            "models/gold/h.yml": "kind: view\ntagz: [x]\n",
        }
    )

    error = starter.error(ConfigError)

    assert error.message == "unknown key `tagz`"
    assert error.location == Location(starter.path("models/gold/h.yml"), 2)
    assert error.hint == f"did you mean `tags`? {MODEL_KEYS}"


def test_header_and_sidecar_both_present(starter: ProjectTree) -> None:
    starter.write(
        {
            "models/gold/h.sql": "\n/* @config\nkind: view\n*/\nSELECT 1 AS a\n",
            "models/gold/h.yml": "kind: full\n",
        }
    )

    error = starter.error(ConfigError)

    assert error.message == "config is declared twice: in the header and in h.yml"
    assert error.location == Location(starter.path("models/gold/h.sql"), 3)
    assert error.hint == "keep one of them"


def test_a_config_check_speaks_without_pydantic_wording(starter: ProjectTree) -> None:
    starter.write({"models/silver/orders.sql": """\
        /* @config
        kind: merge
        */
        SELECT 1 AS order_id
        """})

    error = starter.error(ConfigError)

    assert error.message == "kind `merge` needs `unique_key`"
    assert error.location == Location(starter.path("models/silver/orders.sql"), 2)


def test_a_bad_session_gap_is_named_as_such(starter: ProjectTree) -> None:
    starter.write({"models/silver/orders.sql": """\
        /* @config
        kind: merge
        unique_key: order_id
        session_gap: half an hour
        */
        SELECT 1 AS order_id
        """})

    error = starter.error(ConfigError)

    assert "session_gap 'half an hour' is not a duration: write a number and a unit" in (
        error.message)
    assert "watermark" not in error.message
