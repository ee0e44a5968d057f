"""`afluente test`: the demo's unit tests pass; failures show a diff; bad input is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afluente.cli.app import _register, app
from afluente.config import load_project
from afluente.errors import ConfigError
from afluente.model import load_graph
from afluente.testing import discover_tests, run_tests

DEMO = Path(__file__).parents[2] / "src" / "afluente" / "demo" / "project"

_register()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A small project: a bronze source, a silver SQL model and a gold Python model."""
    (tmp_path / "afluente.yml").write_text(
        "name: shop\nvars: {min_amount: 0}\n"
        "sources:\n  orders:\n    type: files\n    path: landing/*.csv\n    format: csv\n"
        "    columns: {amount: 'DECIMAL(10,2)'}\n"
    )
    (tmp_path / "models" / "silver").mkdir(parents=True)
    (tmp_path / "models" / "gold").mkdir(parents=True)
    (tmp_path / "models" / "silver" / "orders.sql").write_text(
        "SELECT CAST(order_id AS INTEGER) AS order_id, lower(status) AS status,\n"
        "       amount, CAST(ordered_at AS TIMESTAMP) AS ordered_at\n"
        "FROM bronze.orders\nWHERE amount >= getvariable('min_amount')\n"
    )
    (tmp_path / "models" / "gold" / "totals.py").write_text(
        "import afluente\n\n"
        "@afluente.table(inputs=['silver.orders'])\n"
        "def totals(orders):\n"
        "    return orders.aggregate('status, sum(amount) AS total, count(*) AS n')\n"
    )
    (tmp_path / "tests").mkdir()
    return tmp_path


def write_test(project: Path, text: str, name: str = "orders.yml") -> Path:
    path = project / "tests" / name
    path.write_text(text)
    return path


ORDERS_GIVEN = """\
    given:
      bronze.orders:
        - {order_id: "1", status: "NEW", amount: "10.50", ordered_at: "2024-01-05 10:00:00"}
        - {order_id: "2", status: "Paid", amount: "3", ordered_at: "2024-01-06"}
"""


def test_demo_project_unit_tests_pass() -> None:
    code, output = invoke("-p", str(DEMO), "test")
    assert code == 0, output
    assert "7 passed, 0 failed of 7 tests" in output
    for name in ("silver.orders::latest_version_wins", "silver.customers::",
                 "gold.fct_orders::totals_and_unknown_customer", "gold.dim_date::"):
        assert name in output


def test_demo_select_and_json() -> None:
    code, output = invoke("-p", str(DEMO), "--json", "test", "--select", "layer:gold")
    assert code == 0, output
    payload = json.loads(output)
    assert payload["failed"] == 0
    assert {t["model"] for t in payload["tests"]} == {
        "gold.dim_date", "gold.fct_orders", "gold.revenue_by_state_month"}


def test_passing_test_casts_values_to_real_types(project: Path) -> None:
    write_test(project, "model: silver.orders\ntests:\n  - name: typed\n" + ORDERS_GIVEN + """\
    expect:
      - {order_id: 1, status: new, amount: 10.5, ordered_at: 2024-01-05 10:00:00}
      - {order_id: 2, status: paid, amount: "3.00", ordered_at: "2024-01-06 00:00:00"}
""")
    code, output = invoke("-p", str(project), "test")
    assert code == 0, output
    assert "PASS silver.orders::typed" in output


def test_failing_test_prints_a_readable_diff(project: Path) -> None:
    write_test(project, "model: silver.orders\ntests:\n  - name: wrong\n" + ORDERS_GIVEN + """\
    key: [order_id]
    expect:
      - {order_id: 1, status: new, amount: "10.75"}
      - {order_id: 3, status: paid, amount: "3.00"}
""")
    code, output = invoke("-p", str(project), "test")
    assert code == 1
    assert "FAIL silver.orders::wrong" in output
    assert "changed row {order_id: 1}:" in output
    assert "amount: expected 10.75, got 10.50" in output
    assert "missing rows (expected, not in the output):" in output
    assert "- {order_id: 3, status: 'paid', amount: 3.00}" in output
    assert "unexpected rows (in the output, not expected):" in output
    assert "+ {order_id: 2, status: 'paid', amount: 3.00}" in output
    assert "0 passed, 1 failed of 1 tests" in output


def test_python_model_vars_and_empty_given(project: Path) -> None:
    write_test(project, """\
tests:
  - name: totals
    model: gold.totals
    given:
      silver.orders:
        - {order_id: 1, status: new, amount: "1.25"}
        - {order_id: 2, status: new, amount: "2.25"}
    expect:
      - {status: new, total: "3.50", n: 2}
  - name: vars_filter
    model: silver.orders
    vars: {min_amount: 5}
""" + ORDERS_GIVEN.replace("    given", "    given", 1) + """\
    columns: [order_id]
    expect: [{order_id: 1}]
  - name: nothing_in
    model: silver.orders
    given: {bronze.orders: []}
    expect: []
""")
    code, output = invoke("-p", str(project), "test")
    assert code == 0, output
    assert "3 passed, 0 failed of 3 tests" in output


def test_order_matters_reports_positions(project: Path) -> None:
    write_test(project, "model: silver.orders\nname: ordered\norder_matters: true\n"
               "columns: [order_id]\n" + ORDERS_GIVEN.replace("    ", "", 1).replace(
                   "\n    ", "\n") + "expect: [{order_id: 2}, {order_id: 1}]\n")
    project_obj = load_project(project)
    graph = load_graph(project_obj, cache=False)
    [result] = run_tests(project_obj, graph, discover_tests(project_obj, graph))
    assert result.status == "failed"
    assert result.diff is not None
    assert [(i, e["order_id"], a["order_id"]) for i, e, a in result.diff.misplaced] == [
        (1, 2, 1), (2, 1, 2)]


def test_unknown_key_is_a_config_error_with_line(project: Path) -> None:
    write_test(project, "model: silver.orders\ntests:\n  - name: t\n    expected: []\n")
    project_obj = load_project(project)
    with pytest.raises(ConfigError) as caught:
        discover_tests(project_obj, load_graph(project_obj, cache=False))
    assert "unknown key `tests.0.expected`" in caught.value.message
    assert str(caught.value.location).endswith("orders.yml:4")
    assert "did you mean `expect`?" in (caught.value.hint or "")


def test_fixture_column_the_upstream_lacks_is_named(project: Path) -> None:
    write_test(project, """\
model: gold.totals
name: typo
given:
  silver.orders: [{order_id: 1, stauts: new}]
expect: []
""")
    code, output = invoke("-p", str(project), "test")
    assert code == 1
    assert "test `typo`: given table `silver.orders` has no column `stauts`" in output
    assert "did you mean `status`?" in output


def test_missing_upstream_and_bad_value_and_crash_do_not_stop_others(project: Path) -> None:
    write_test(project, """\
tests:
  - name: no_input
    model: silver.orders
    expect: []
  - name: bad_value
    model: gold.totals
    given: {silver.orders: [{order_id: "one"}]}
    expect: []
  - name: crash
    model: silver.orders
    vars: {min_amount: "not a number"}
    given: {bronze.orders: [{order_id: "1", amount: "2"}]}
    expect: []
  - name: fine
    model: silver.orders
    given: {bronze.orders: []}
    expect: []
""")
    project_obj = load_project(project)
    graph = load_graph(project_obj, cache=False)
    results = {r.test.name: r for r in run_tests(project_obj, graph,
                                                 discover_tests(project_obj, graph))}
    assert [r.status for r in results.values()] == ["error", "error", "error", "passed"]
    assert "does not give `bronze.orders` (read by `silver.orders`)" in str(
        results["no_input"].error)
    assert "'one' is not a INTEGER" in str(results["bad_value"].error)
    assert "DuckDB" in str(results["crash"].error)
