"""`${VAR}` and `${VAR:-default}` in `afluente.yml` string values."""

from __future__ import annotations

from pathlib import Path

import pytest

from afluente.config.interpolate import interpolate
from afluente.config.yaml_lines import load_located_yaml
from afluente.errors import ConfigError, Location

from .conftest import WriteProject, config_error, load

FILE = Path("afluente.yml")


def expand(text: str, **env: str) -> object:
    return interpolate(load_located_yaml(text, FILE), env)


def test_variables_are_replaced_in_nested_strings_and_lists() -> None:
    text = "a: ${HOST}\nb:\n  c: [x, 'pre-${HOST}-${PORT}-post']\nd: 5\n"

    assert expand(text, HOST="db", PORT="5432") == {
        "a": "db",
        "b": {"c": ["x", "pre-db-5432-post"]},
        "d": 5,
    }


def test_defaults_apply_only_when_the_variable_is_unset() -> None:
    text = "a: ${A:-fallback}\nb: ${B:-fallback}\nc: ${C:-}\nd: ${D:-x:y/z}\n"

    assert expand(text, B="set", D="") == {"a": "fallback", "b": "set", "c": "", "d": ""}


def test_text_that_is_not_a_reference_is_kept() -> None:
    text = "a: $HOME\nb: ${not-a-name}\nc: '${}'\n"

    assert expand(text) == {"a": "$HOME", "b": "${not-a-name}", "c": "${}"}


def test_missing_variable_in_a_list_names_the_item_and_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        expand("tags:\n  - ok\n  - ${TEAM}\n")

    assert caught.value.message == "environment variable TEAM is not set (used by `tags.1`)"
    assert caught.value.location == Location(FILE, 3)


def test_process_environment_is_the_default(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFLUENTE_TEST_PG_PASSWORD", "s3cret")
    root = write_project("""\
        name: p
        state: postgresql+psycopg://etl:${AFLUENTE_TEST_PG_PASSWORD}@db/lake
        warehouse: ${AFLUENTE_TEST_WAREHOUSE:-s3://lake/default}
        """)

    config = load(root).config

    assert config.state == "postgresql+psycopg://etl:s3cret@db/lake"
    assert config.warehouse == "s3://lake/default"


def test_missing_variable_names_the_key_and_line(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AFLUENTE_TEST_LANDING", raising=False)
    root = write_project("""\
        name: p
        sources:
          orders:
            type: files
            path: ${AFLUENTE_TEST_LANDING}/orders/*.csv
        """)

    error = config_error(root)

    assert error.message == (
        "environment variable AFLUENTE_TEST_LANDING is not set (used by `sources.orders.path`)"
    )
    assert error.location == Location(root / "afluente.yml", 5)
    assert error.hint == (
        "export AFLUENTE_TEST_LANDING=... or write ${AFLUENTE_TEST_LANDING:-default} "
        "to give a default"
    )


def test_interpolated_values_are_validated(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFLUENTE_TEST_FORMAT", "xml")
    root = write_project("""\
        name: p
        sources:
          s: {type: files, path: s.x, format: "${AFLUENTE_TEST_FORMAT}"}
        """)

    error = config_error(root)

    assert error.message == "invalid value 'xml' for `sources.s.format`"
    assert error.location == Location(root / "afluente.yml", 3)
