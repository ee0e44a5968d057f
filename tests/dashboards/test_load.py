"""Loading `dashboards/*.yml`: the demo's dashboard, and each kind of mistake reported with
the file, line, column and key (and "did you mean")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from afluente.config import Project, load_project
from afluente.dashboards import DashboardError, find_dashboard, load_dashboards
from afluente.dashboards.filters import bound_query, filter_values
from afluente.dashboards.load import DashboardNotFound, load_dashboard
from afluente.demo.build import copy_project_template
from afluente.errors import ConfigError

GOLD = {"gold.revenue_by_state_month", "gold.fct_orders", "gold.dim_customer"}

GOOD = """\
title: Sales
refresh: 1m
filters:
  uf:
    label: State
    choices: [SP, RJ]
    default: SP
  since: {type: date}
panels:
  by_state:
    title: Revenue by state
    chart: bar
    query: |
      SELECT uf, sum(gross_revenue) AS revenue
      FROM gold.revenue_by_state_month
      WHERE uf = {{ uf }} AND ({{since}} IS NULL OR month >= {{ since }})
      GROUP BY uf
    x: uf
    y: revenue
"""


def write(tmp_path: Path, text: str, name: str = "sales") -> Path:
    file = tmp_path / f"{name}.yml"
    file.write_text(text, encoding="utf-8")
    return file


def error_of(tmp_path: Path, text: str) -> DashboardError:
    with pytest.raises(DashboardError) as raised:
        load_dashboard(write(tmp_path, text), GOLD)
    return raised.value


def test_a_dashboard_loads_with_its_panels_filters_and_refresh(tmp_path: Path) -> None:
    dashboard = load_dashboard(write(tmp_path, GOOD), GOLD)

    assert dashboard.name == "sales" and dashboard.title == "Sales"
    assert dashboard.refresh == timedelta(minutes=1)
    panel = dashboard.panels["by_state"]
    assert (panel.chart, panel.x, panel.y) == ("bar", "uf", ["revenue"])
    assert panel.placeholders() == ["uf", "since", "since"]
    values = filter_values(dashboard, {})
    assert values == {"uf": "SP", "since": None}
    sql = bound_query(panel.query, filter_values(dashboard, {"uf": "RJ", "since": "2024-02-01"}))
    assert "WHERE uf = 'RJ' AND (DATE '2024-02-01' IS NULL OR month >= DATE '2024-02-01')" in sql


def demo_project(tmp_path: Path) -> Project:
    """The demo's project files (no data), copied: loading models writes a parse cache."""
    copy_project_template(tmp_path)
    return load_project(tmp_path)


def test_the_demo_ships_a_revenue_dashboard_over_its_gold_tables(tmp_path: Path) -> None:
    project = demo_project(tmp_path)

    (dashboard,) = load_dashboards(project)

    assert dashboard.name == "revenue"
    charts = {name: p.chart for name, p in dashboard.panels.items()}
    assert charts == {"revenue_by_state": "map", "revenue_by_month": "line",
                      "top_categories": "bar", "order_funnel": "bar",
                      "order_funnel_table": "table"}
    assert set(dashboard.filters) == {"uf", "since"}
    assert find_dashboard(project, "revenue").title == dashboard.title


def test_an_unknown_key_names_file_line_column_and_the_key_it_may_be(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("    chart: bar", "    chrat: bar"))

    assert isinstance(error, ConfigError)
    assert error.message == "unknown key `panels.by_state.chrat`"
    assert (error.location.line, error.location.column) == (12, 5)  # type: ignore[union-attr]
    assert str(error.location).endswith("sales.yml:12:5")
    assert error.hint is not None and error.hint.startswith("did you mean `chart`?")


def test_an_unknown_table_is_placed_in_the_query_with_the_closest_gold_table(
        tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("FROM gold.revenue_by_state_month",
                                            "FROM gold.revenue_by_state_mnth"))

    assert "panel 'by_state'" in error.message and "gold.revenue_by_state_mnth" in error.message
    assert error.location is not None
    assert (error.location.line, error.location.column) == (15, 12)
    assert error.hint is not None
    assert error.hint.startswith("did you mean `gold.revenue_by_state_month`?")


def test_a_table_outside_gold_is_refused_with_what_to_write(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("FROM gold.revenue_by_state_month",
                                            "FROM silver.orders"))

    assert "reads silver.orders, which is no gold table" in error.message
    assert error.hint is not None and "write the table as gold.NAME" in error.hint


def test_an_undeclared_filter_in_a_query_is_named_with_the_closest(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("WHERE uf = {{ uf }}", "WHERE uf = {{ ufs }}"))

    assert error.message == ("dashboard 'sales', panel 'by_state': the query uses {{ ufs }}, "
                             "which is no filter of the dashboard")
    assert error.location is not None
    assert (error.location.line, error.location.column) == (16, 21)
    assert error.hint is not None and error.hint.startswith("did you mean `uf`?")


def test_a_bad_chart_kind_lists_the_kinds(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("chart: bar", "chart: pie"))

    assert error.message == "invalid value 'pie' for `panels.by_state.chart`"
    assert error.location is not None and (error.location.line, error.location.column) == (12, 5)
    assert error.hint is not None and "'map'" in error.hint and "'line'" in error.hint


def test_a_chart_without_its_axes_says_which(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("    x: uf\n", ""))

    assert "a bar chart needs `x`" in error.message
    assert error.location is not None
    assert (error.location.line, error.location.column) == (10, 3)  # the panel


def test_a_default_outside_the_choices_is_refused(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("default: SP", "default: MG"))

    assert error.message == ("dashboard 'sales', filter 'uf': the default 'MG' is not among "
                             "its choices")
    assert error.location is not None and (error.location.line, error.location.column) == (7, 5)


def test_invalid_yaml_names_the_line_and_column(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("    x: uf", "    x: [uf"))

    assert error.message == "invalid YAML: expected ',' or ']', but got ':'"
    assert error.location is not None
    assert (error.location.line, error.location.column) == (19, 6)


def test_a_refresh_that_is_no_duration_says_how_to_write_one(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("refresh: 1m", "refresh: often"))

    assert "'often' is not a duration: write it like 30m" in error.message
    assert error.location is not None and (error.location.line, error.location.column) == (2, 1)


def test_the_name_is_the_file_s_name(tmp_path: Path) -> None:
    named = error_of(tmp_path, "name: other\n" + GOOD)
    write(tmp_path, GOOD, "my sales")
    with pytest.raises(DashboardError) as spaced:
        load_dashboard(tmp_path / "my sales.yml", GOLD)

    assert named.message == "unknown key `name`"
    assert named.hint == "a dashboard's name is its file's name: rename the file"
    assert spaced.value.message.startswith("my sales.yml: a dashboard's file name is its name")


def test_filter_values_are_checked_against_their_declaration(tmp_path: Path) -> None:
    dashboard = load_dashboard(write(tmp_path, GOOD), GOLD)

    with pytest.raises(DashboardError) as wrong_choice:
        filter_values(dashboard, {"uf": "RJJ"})
    assert wrong_choice.value.message == ("dashboard 'sales', filter 'uf': 'RJJ' is not one "
                                          "of its choices")
    assert wrong_choice.value.hint == "did you mean `RJ`? choices: SP, RJ"
    with pytest.raises(DashboardError) as bad_date:
        filter_values(dashboard, {"since": "31/12/2024"})
    assert bad_date.value.hint == "write it as YYYY-MM-DD"
    with pytest.raises(DashboardError) as unknown:
        filter_values(dashboard, {"sinc": "2024-01-01"})
    assert unknown.value.hint == "did you mean `since`? filters: since, uf"
    quoted = bound_query("SELECT {{ uf }}", {"uf": "x' OR 1=1 --"})
    assert quoted == "SELECT 'x'' OR 1=1 --'"


def test_an_unknown_dashboard_gets_the_closest_name(tmp_path: Path) -> None:
    project = demo_project(tmp_path)

    with pytest.raises(DashboardNotFound) as raised:
        find_dashboard(project, "revenu")

    assert raised.value.hint is not None and raised.value.hint.startswith("did you mean `revenue`?")
