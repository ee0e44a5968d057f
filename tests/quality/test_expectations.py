"""Each rule type and each action, end to end through run_project on tiny projects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.quality.conftest import model_text

from afluente.config import load_project
from afluente.errors import ConfigError
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.runtime.query import query_project
from afluente.storage import Warehouse

PEOPLE_REF = TableRef("silver", "people")


def results(root: Path) -> dict[str, dict[str, object]]:
    table = query_project(load_project(root), "SELECT * FROM afluente.quality_results")
    return {r["rule"]: r for r in table.to_pylist()}


def rows(root: Path, ref: TableRef = PEOPLE_REF) -> list[dict[str, object]]:
    warehouse = Warehouse(load_project(root).warehouse_uri)
    return sorted(warehouse.dataset(ref).to_table().to_pylist(), key=lambda r: str(r))


@pytest.mark.parametrize(
    ("rule", "failed"),
    [
        ("not_null: name", 1),
        ("not_null: [name, email]", 2),
        ("accepted_values: {column: uf, values: [SP, RJ, MG]}", 1),
        ("between: {column: age, min: 18, max: 120}", 2),
        ("regex: {column: uf, pattern: '^[A-Z]{2}$'}", 0),
        ("length: {column: name, min: 4}", 3),
        ("format: {column: email, as: email}", 1),
        ("format: {column: cpf, as: cpf}", 2),
        ("format: {column: signed_up, as: date}", 0),
        ("expression: age % 2 = 1", 2),
    ],
)
def test_row_rule_counts_failing_rows(
    make_project: Callable[..., Path], rule: str, failed: int
) -> None:
    root = make_project(f"  - {{name: r, {rule}}}")
    assert run_project(load_project(root)).status == "success"
    result = results(root)["r"]
    assert (result["rows_evaluated"], result["rows_failed"]) == (5, failed)
    assert result["passed"] is (failed == 0)
    assert len(json.loads(str(result["sample"]))) == failed
    assert len(rows(root)) == 5  # warn keeps every row


def test_cnpj_check_digits(make_project: Callable[..., Path]) -> None:
    body = "SELECT * FROM (VALUES ('11.222.333/0001-81'), ('11222333000182'), (NULL)) t(cnpj)"
    root = make_project("  - {name: cnpj_ok, format: {column: cnpj, as: cnpj}}", body)
    run_project(load_project(root))
    assert results(root)["cnpj_ok"]["rows_failed"] == 1


@pytest.mark.parametrize(
    ("rule", "failed"),
    [
        ("unique: id", 2),
        ("unique: [id, name]", 0),
        ("relationships: {column: uf, to: silver.states, field: uf}", 1),
        ("row_count: {min: 1, max: 4}", 1),
        ("row_count: {min: 1, max: 10}", 0),
        ("freshness: {column: signed_up, max_age: 100 years}", 0),
        ("freshness: {column: signed_up, max_age: 1 day}", 1),
        ("aggregate: sum(age) > 1000", 1),
        ("distribution: {column: email, null_rate_max: 0.3, distinct_min: 3}", 0),
        ("distribution: {column: age, mean_min: 10, mean_max: 50}", 1),
    ],
)
def test_table_rule(make_project: Callable[..., Path], rule: str, failed: int) -> None:
    states = "SELECT * FROM (VALUES ('SP'), ('RJ'), ('MG')) t(uf)"
    root = make_project(f"  - {{name: r, {rule}}}", silver__states=states)
    assert run_project(load_project(root)).status == "success"
    assert results(root)["r"]["rows_failed"] == failed


def test_schema_rule_compares_types(make_project: Callable[..., Path]) -> None:
    root = make_project("  - {name: s, columns: {id: INTEGER, age: VARCHAR, nope: DATE}}")
    run_project(load_project(root))
    result = results(root)["s"]
    assert result["rows_failed"] == 2
    assert "age: expected VARCHAR, found INTEGER" in str(result["detail"])


def test_drop_removes_rows_and_counts_them(make_project: Callable[..., Path]) -> None:
    root = make_project("  - {name: adult, between: {column: age, min: 18}, action: drop}")
    run_project(load_project(root))
    assert sorted(r["id"] for r in rows(root)) == [1, 2, 4, 4]  # 17 dropped, 230 kept
    assert results(root)["adult"]["rows_failed"] == 1


def test_quarantine_writes_failing_rows_with_rule_and_reason(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(
        "  - {name: cpf_ok, format: {column: cpf, as: cpf}, action: quarantine}\n"
        "  - {name: known_uf, accepted_values: {column: uf, values: [SP, RJ, MG]},"
        " action: quarantine}"
    )
    result = run_project(load_project(root))
    kept = rows(root)
    assert sorted(r["id"] for r in kept) == [1, 4, 4]
    quarantined = rows(root, TableRef("silver", "people__quarantine"))
    by_id = {json.loads(str(r["_row"]))["id"]: r for r in quarantined}
    assert sorted(by_id) == [2, 3]
    assert by_id[3]["_rules"] == ["cpf_ok", "known_uf"]
    assert "known_uf" in str(by_id[3]["_reason"])
    assert by_id[2]["_run_id"] == result.run_id


def test_fail_commits_nothing_and_skips_downstream(make_project: Callable[..., Path]) -> None:
    good = "SELECT 1 AS id, 30 AS age"
    downstream = "SELECT count(*) AS n FROM silver.people"
    rule = "  - {name: adult, between: {column: age, min: 18}, action: fail}"
    root = make_project(rule, good, gold__summary=downstream)
    assert run_project(load_project(root)).status == "success"
    warehouse = Warehouse(load_project(root).warehouse_uri)
    before = warehouse.version(PEOPLE_REF)
    (root / "models/silver/people.sql").write_text(model_text(rule))
    result = run_project(load_project(root))
    status = {str(m.ref): m for m in result.models}
    assert status["silver.people"].status == "failed"
    assert status["gold.summary"].status == "skipped"
    message = str(status["silver.people"].error)
    assert "`adult` failed: 1 of 5 rows" in message and '"age": 17' in message
    assert warehouse.version(PEOPLE_REF) == before
    assert rows(root) == [{"id": 1, "age": 30}]


def test_mostly_lets_a_few_failures_pass(make_project: Callable[..., Path]) -> None:
    root = make_project(
        "  - {name: named, not_null: name, action: fail, mostly: 0.8}\n"
        "  - {name: adult, between: {column: age, min: 18}, action: fail, mostly: 0.9}"
    )
    result = run_project(load_project(root))
    assert result.status != "success"
    found = results(root)
    assert found["named"]["passed"] is True
    assert found["adult"]["passed"] is False


def test_python_model_expectations(make_project: Callable[..., Path]) -> None:
    python = (
        "import afluente\n\n"
        "@afluente.table(expectations=[{'name': 'pos', 'expression': 'x > 0',"
        " 'action': 'drop'}])\n"
        "def numbers():\n"
        "    import pyarrow as pa\n"
        "    return pa.table({'x': [1, -2, 3]})\n"
    )
    root = make_project("  - {name: r, not_null: id}", gold__numbers=python)
    assert run_project(load_project(root)).status == "success"
    assert rows(root, TableRef("gold", "numbers")) == [{"x": 1}, {"x": 3}]
    assert results(root)["pos"]["rows_failed"] == 1


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("not_null: nme", "column `nme` is not in the output"),
        ("regex: {column: uf, pattern: '[A-Z'}", "invalid regex"),
        ("expression: age >>> 3", "invalid SQL in `expression`"),
        ("aggregate: sum(nope) > 1", "invalid SQL in `aggregate`"),
        ("unique: id, action: quarantine", "can `warn` or `fail`"),
        ("nonsense: 1", "unknown key `nonsense`"),
        ("description: x", "needs exactly one rule key"),
    ],
)
def test_bad_expectation_is_an_error_naming_file_and_rule(
    make_project: Callable[..., Path], rule: str, message: str
) -> None:
    root = make_project(f"  - {{name: bad, {rule}}}")
    result = run_project(load_project(root))
    error = result.models[0].error
    assert isinstance(error, ConfigError)
    assert message in error.render()
    assert "people.sql" in error.render()
