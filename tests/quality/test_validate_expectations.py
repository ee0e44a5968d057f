"""`afluente validate` checks expectations without data; quarantine tables are queryable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.cli.test_errors_cli import afluente

from afluente.config import load_project
from afluente.errors import ConfigError
from afluente.model import load_graph
from afluente.runtime import run_project
from afluente.runtime.quality_validate import validate_expectations
from afluente.runtime.query import query_project

CSV_SOURCE = (
    "name: q\nwarehouse: warehouse\nsources:\n  people:\n    type: files\n"
    "    path: landing/*.csv\n    format: csv\n"
)
FROM_SOURCE = "SELECT CAST(id AS INTEGER) AS id, name, email FROM bronze.people"


def validate(root: Path) -> int:
    project = load_project(root)
    return validate_expectations(project, load_graph(project))


BAD = [
    ("not_null: nme", "column `nme` is not in the output", "did you mean `name`?"),
    ("regex: {column: uf, pattern: '[A-Z'}", "invalid regex", "fix the pattern"),
    ("expression: age >>> 3", "invalid SQL in `expression`", "valid DuckDB SQL"),
    ("aggregate: sum(nope) > 1", "invalid SQL in `aggregate`", "valid DuckDB SQL"),
    ("expression: upper(age) = 'x'", "invalid SQL in `expression`", "valid DuckDB SQL"),
]


@pytest.mark.parametrize(("rule", "message", "hint"), BAD)
def test_validate_names_file_rule_and_problem_before_any_run(
    make_project: Callable[..., Path], rule: str, message: str, hint: str
) -> None:
    root = make_project(f"  - {{name: bad, {rule}}}")
    with pytest.raises(ConfigError) as caught:
        validate(root)
    rendered = caught.value.render()
    assert "people.sql" in rendered and "`bad`" in rendered and message in rendered
    assert hint in rendered
    assert not (root / "warehouse").exists()  # nothing was built


def test_validate_accepts_good_expectations(make_project: Callable[..., Path]) -> None:
    rules = (
        "  - {name: id, not_null: id, action: fail}\n"
        "  - {name: uf, regex: {column: uf, pattern: '^[A-Z]{2}$'}}\n"
        "  - {name: adult, expression: age >= 18, action: drop}\n"
        "  - {name: one, unique: id}\n"
    )
    assert validate(make_project(rules)) == 4


def write_source_project(root: Path, rule: str) -> Path:
    (root / "models" / "silver").mkdir(parents=True)
    (root / "landing").mkdir()
    (root / "afluente.yml").write_text(CSV_SOURCE)
    (root / "models/silver/people.sql").write_text(
        f"/* @config\nkind: full\nexpectations:\n  - {{name: bad, {rule}}}\n*/\n{FROM_SOURCE}"
    )
    return root


def test_validate_uses_lineage_when_the_source_was_never_ingested(tmp_path: Path) -> None:
    """No bronze table exists, so nothing binds: the output columns come from lineage."""
    root = write_source_project(tmp_path / "p", "not_null: emial")
    with pytest.raises(ConfigError, match="column `emial` is not in the output") as caught:
        validate(root)
    assert "did you mean `email`?" in caught.value.render()
    good = write_source_project(tmp_path / "g", "expression: email LIKE '%@%'")
    assert validate(good) == 1
    broken = write_source_project(tmp_path / "b", "expression: email LIKE (")
    with pytest.raises(ConfigError, match="invalid SQL in `expression`"):
        validate(broken)


def test_validate_command_reports_the_expectation(make_project: Callable[..., Path]) -> None:
    root = make_project("  - {name: bad, between: {column: agee, min: 1}}")
    result = afluente("-p", str(root), "validate")
    assert result.returncode == 2
    assert "people.sql" in result.stderr
    assert "expectation `bad`: column `agee` is not in the output" in result.stderr


def test_quarantine_table_is_queryable(make_project: Callable[..., Path]) -> None:
    root = make_project(
        "  - {name: known_uf, accepted_values: {column: uf, values: [SP, RJ, MG]},"
        " action: quarantine}"
    )
    run_project(load_project(root))
    found = query_project(
        load_project(root),
        "SELECT _rules, _row FROM silver.people__quarantine ORDER BY _row",
    ).to_pylist()
    assert [r["_rules"] for r in found] == [["known_uf"]]
    assert json.loads(found[0]["_row"])["uf"] == "XX"


def test_a_misspelt_rule_names_its_line_and_the_rule_meant(
    make_project: Callable[..., Path],
) -> None:
    root = make_project("  - name: ok\n    not_null: id\n  - name: named\n    not_nul: name")
    with pytest.raises(ConfigError) as caught:
        validate(root)

    assert caught.value.location is not None
    assert (caught.value.location.file, caught.value.location.line) == (
        root / "models/silver/people.sql", 7
    )
    assert caught.value.message == "expectation #2 `named`: unknown key `not_nul`"
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("did you mean `not_null`?")


def test_a_misspelt_rule_argument_is_named_before_the_missing_one(
    make_project: Callable[..., Path],
) -> None:
    root = make_project("  - name: adult\n    between:\n      colum: age\n      min: 18")
    with pytest.raises(ConfigError) as caught:
        validate(root)

    assert caught.value.location is not None and caught.value.location.line == 6
    assert caught.value.message == "expectation #1 `adult`: unknown key `between.colum`"
    assert caught.value.hint == "did you mean `column`? valid keys here: column, max, min"


def test_a_validator_message_reaches_users_without_pydantic_wording(
    make_project: Callable[..., Path],
) -> None:
    root = make_project("  - name: some\n    not_null: id\n    mostly: 2")
    with pytest.raises(ConfigError) as caught:
        validate(root)

    assert caught.value.location is not None and caught.value.location.line == 6
    assert caught.value.message == (
        "expectation #1 `some`: `mostly`: Input should be less than or equal to 1"
    )
