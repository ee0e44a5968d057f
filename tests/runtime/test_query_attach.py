"""`afluente query` attaches only the tables a statement reads (views with their upstream)
and opens the state store only for `afluente.*`; whenever the names do not settle it, it
attaches everything, so what a query sees never depends on the shortcut."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.engines.duckdb_readonly import tables_read
from afluente.errors import EngineError
from afluente.model import TableRef, load_graph
from afluente.runtime.query import STATE_NAMES, query_project, tables_wanted
from afluente.state.observability import OBSERVABILITY_TABLES
from afluente.state.store import _TABLES

ORDERS = TableRef("silver", "orders")
CUSTOMERS = TableRef("silver", "customers")
BY_STATE = TableRef("gold", "revenue_by_state")
VIEW = TableRef("gold", "big_orders")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter project with a view over a stored table, built."""
    root = tmp_path_factory.mktemp("attach") / "shop"
    scaffold(root)
    (root / "models" / "gold" / "big_orders.sql").write_text(
        "/* @config\nkind: view\n*/\nSELECT * FROM silver.orders WHERE amount > 100\n"
    )
    built = run_afluente(["-p", str(root), "run"])
    assert built.returncode == 0, built.stderr
    return root


def test_the_state_names_are_the_stores_tables() -> None:
    assert {f"afluente.{name}" for name in (*_TABLES, *OBSERVABILITY_TABLES)} == STATE_NAMES


def test_duckdb_names_what_a_statement_reads() -> None:
    assert tables_read("SELECT 1") == set()
    assert tables_read(
        "SELECT * FROM Silver.Orders o JOIN silver.customers c USING (customer_id) "
        "WHERE o.amount > (SELECT avg(amount) FROM afluente.runs)"
    ) == {"silver.orders", "silver.customers", "afluente.runs"}
    assert tables_read("DESCRIBE silver.orders") == {"silver.orders"}


@pytest.mark.parametrize("sql", ["SHOW TABLES", "SELECT * FROM duckdb_tables()",
                                 "SELECT * FROM information_schema.tables",
                                 "SELECT * FROM read_csv('/etc/passwd')"])
def test_catalog_queries_and_file_reads_name_no_narrowing(sql: str) -> None:
    assert tables_read(sql) is None


def test_a_refused_statement_is_refused_before_anything_is_read() -> None:
    with pytest.raises(EngineError, match="got 2 \\(SELECT, COPY\\)"):
        tables_read("SELECT 1; COPY (SELECT 1) TO 'x.csv'")


def test_the_tables_wanted_are_those_named_with_the_upstream_of_views(shop: Path) -> None:
    graph = load_graph(load_project(shop))

    only = tables_wanted(graph, {"silver.orders"})
    assert only is not None and only.tables == {ORDERS} and not only.state
    view = tables_wanted(graph, {"gold.big_orders", "afluente.runs"})
    assert view is not None and view.tables == {VIEW, ORDERS} and view.state
    quarantine = tables_wanted(graph, {"silver.orders__quarantine"})
    assert quarantine is not None and quarantine.tables == {ORDERS}
    assert tables_wanted(graph, {"silver.ordrs"}) is None  # DuckDB names the candidates
    assert tables_wanted(graph, None) is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) AS n FROM gold.big_orders", [{"n": 2}]),
        ("SELECT count(*) AS n FROM silver.orders JOIN silver.customers USING (customer_id)",
         [{"n": 4}]),
        ("SELECT 1 AS one", [{"one": 1}]),
        ("SELECT count(*) > 0 AS ran FROM afluente.runs", [{"ran": True}]),
    ],
)
def test_narrowed_queries_read_as_before(shop: Path, sql: str, expected: list[object]) -> None:
    assert query_project(load_project(shop), sql).to_pylist() == expected


def test_a_catalog_query_still_sees_every_table(shop: Path) -> None:
    listed = query_project(
        load_project(shop),
        "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables "
        "WHERE table_schema <> 'main' ORDER BY t",
    ).column("t").to_pylist()
    assert {str(ORDERS), str(CUSTOMERS), str(BY_STATE), str(VIEW), "afluente.runs"} <= set(listed)


def test_a_misspelt_table_gets_the_engines_candidates(shop: Path) -> None:
    with pytest.raises(EngineError) as caught:
        query_project(load_project(shop), "SELECT * FROM silver.ordrs")
    assert "Table with name ordrs does not exist!\nDid you mean \"orders\"?" in caught.value.message


def test_a_query_of_data_tables_does_not_open_the_state_store(
    shop: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = tmp_path / "shop"
    shutil.copytree(shop, copy)
    (copy / ".afluente" / "state.db").unlink()  # opening the store would create it

    with caplog.at_level(logging.WARNING, logger="afluente"):
        rows = query_project(load_project(copy), "SELECT count(*) AS n FROM silver.orders")

    assert rows.to_pylist() == [{"n": 4}]
    assert not (copy / ".afluente" / "state.db").exists()
    assert not caplog.records  # no "afluente.* tables are not available" either
