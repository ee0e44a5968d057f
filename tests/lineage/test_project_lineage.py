"""Project-level lineage: sources, Python models, unbuilt tables and the table-level fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tests.lineage.openlineage_schemas import validate_event

from afluente.config import load_project
from afluente.lineage import project_lineage
from afluente.model import load_graph


def _project(root: Path, silver_sql: str) -> Path:
    (root / "models" / "silver").mkdir(parents=True)
    (root / "models" / "gold").mkdir(parents=True)
    (root / "models" / "silver" / "orders.sql").write_text(silver_sql)
    (root / "models" / "gold" / "totals.sql").write_text(
        "SELECT customer_id, sum(amount) AS total FROM silver.orders GROUP BY ALL")
    (root / "models" / "gold" / "scores.py").write_text(
        "import afluente\n\n@afluente.table(inputs=['gold.totals'])\n"
        "def scores(totals):\n    return totals\n")
    (root / "afluente.yml").write_text(
        "name: p\nsources:\n  orders:\n    type: files\n    path: landing/*.csv\n"
        "  api:\n    type: rest\n    url: https://api.example.com\n    endpoint: /v1/items\n")
    return root


def _stored(columns: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return lambda ref: columns.get(str(ref))


def test_unbuilt_tables_take_columns_from_upstream_lineage(tmp_path: Path) -> None:
    root = _project(tmp_path, "SELECT customer_id, amount FROM bronze.orders")
    graph = load_graph(load_project(root), cache=False)
    found = project_lineage(graph, _stored({"bronze.orders": ["customer_id", "amount", "_rid"]}))
    totals = found.datasets["gold.totals"]
    assert totals.column_level and totals.dataset.columns == ("customer_id", "total")
    assert {(str(e.source), e.kind) for e in totals.edges} == {
        ("silver.orders.customer_id", "identity"), ("silver.orders.amount", "aggregation")}
    bronze = found.datasets["bronze.orders"]
    assert [str(e.source) for e in bronze.edges] == ["source:orders.customer_id",
                                                     "source:orders.amount"]
    assert found.datasets["source:orders"].dataset.location == "landing/*.csv"
    assert found.datasets["source:api"].dataset.location == "https://api.example.com/v1/items"
    scores = found.datasets["gold.scores"]
    assert not scores.column_level and scores.dataset.inputs == ("gold.totals",)


def test_unresolvable_sql_falls_back_to_table_level_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = _project(tmp_path, "SELECT customer_id, missing_column AS amount FROM bronze.orders")
    graph = load_graph(load_project(root), cache=False)
    with caplog.at_level(logging.WARNING, logger="afluente.lineage"):
        found = project_lineage(graph, _stored({"bronze.orders": ["customer_id", "amount"]}))
    silver = found.datasets["silver.orders"]
    assert not silver.column_level and silver.edges == ()
    assert silver.dataset.inputs == ("bronze.orders",)
    [warning] = silver.warnings
    assert warning.startswith("silver.orders (")
    assert "falls back to table level" in warning and "missing_column" in warning
    assert warning in caplog.text


def test_schema_validation_rejects_a_facet_missing_a_required_field() -> None:
    from jsonschema import ValidationError

    event = {
        "eventTime": "2026-11-23T00:00:00Z", "producer": "https://x.example",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "eventType": "START", "run": {"runId": "b8483d92-56cd-5df6-a8e2-906ad54f9722"},
        "job": {"namespace": "n", "name": "j", "facets": {"sql": {
            "_producer": "https://x.example",
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/SQLJobFacet.json"}}},
    }
    with pytest.raises(ValidationError, match="'query' is a required property"):
        validate_event(event)


def test_python_models_declare_column_lineage(tmp_path: Path) -> None:
    root = _project(tmp_path, "SELECT customer_id, amount FROM bronze.orders")
    (root / "models" / "gold" / "scores.py").write_text(
        "import afluente\n\n"
        "@afluente.table(inputs=['gold.totals'], columns={\n"
        "    'customer_id': {'derived_from': ['gold.totals.customer_id'],\n"
        "                    'transformation': 'identity'},\n"
        "    'score': {'derived_from': ['gold.totals.total', 'silver.orders.amount']},\n"
        "})\n"
        "def scores(totals):\n    return totals\n")
    graph = load_graph(load_project(root), cache=False)
    found = project_lineage(graph, _stored({"bronze.orders": ["customer_id", "amount"]}))
    scores = found.datasets["gold.scores"]
    assert scores.column_level
    assert {(str(e.target), str(e.source), e.kind) for e in scores.edges} == {
        ("gold.scores.customer_id", "gold.totals.customer_id", "identity"),
        ("gold.scores.score", "gold.totals.total", "transformation"),
    }
    [warning] = scores.warnings
    assert "`silver.orders.amount`" in warning and "not one of the model's inputs" in warning


def test_database_sources_are_located_by_host_port_database_and_table(tmp_path: Path) -> None:
    """The port (the engine's default when not given) is part of where the data is;
    credentials in a `url` are not."""
    root = _project(tmp_path, "SELECT customer_id, amount FROM bronze.orders")
    with (root / "afluente.yml").open("a") as config:
        config.write("  shop:\n    type: postgres\n    host: db.example\n    database: shop\n"
                     "    source_table: sales.orders\n"
                     "  legacy:\n    type: mysql\n    url: mysql://ana:secret@10.0.0.7:3307/erp\n"
                     "    source_table: items\n")
    graph = load_graph(load_project(root), cache=False)
    found = project_lineage(graph, _stored({}))
    assert found.datasets["source:shop"].dataset.location == (
        "postgres://db.example:5432/shop/sales.orders")
    assert found.datasets["source:legacy"].dataset.location == "mysql://10.0.0.7:3307/erp/items"


def test_group_by_all_and_pivot_models_have_exact_column_lineage_quietly(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Every column of the built tables has lineage, every edge joins real columns (no
    dangling node), and nothing (no sqlglot text, no fallback warning) reaches stderr."""
    from afluente.catalog import load_lineage
    from afluente.model import TableRef
    from afluente.runtime import run_project
    from afluente.storage import Warehouse

    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "a.csv").write_text(
        "id,name,status,amount\n1,ana,paid,3\n2,bia,open,4\n3,ana,open,5\n")
    (tmp_path / "afluente.yml").write_text(
        "name: p\nsources:\n  people:\n    type: files\n    path: landing/*.csv\n"
        "    format: csv\n    columns: {amount: INTEGER}\n")
    gold = tmp_path / "models" / "gold"
    gold.mkdir(parents=True)
    (gold / "by_name.sql").write_text(
        "SELECT name, status, sum(amount) AS total FROM bronze.people GROUP BY ALL")
    (gold / "pivoted.sql").write_text(
        "SELECT * FROM bronze.people PIVOT (sum(amount) FOR status IN ('paid', 'open') "
        "GROUP BY name)")
    (gold / "pivot_using.sql").write_text(
        "SELECT * FROM (PIVOT bronze.people ON status IN ('paid', 'open') USING sum(amount) "
        "GROUP BY name)")
    project = load_project(tmp_path)
    assert run_project(project).status == "success"
    capfd.readouterr()
    caplog.clear()
    warehouse = Warehouse(project.warehouse_uri)
    with caplog.at_level(logging.DEBUG):
        found = load_lineage(load_graph(project, cache=False), warehouse)
    columns = {name: set(m.dataset.columns) for name, m in found.datasets.items()}
    for name in ("gold.by_name", "gold.pivoted", "gold.pivot_using"):
        model = found.datasets[name]
        assert model.column_level, model.warnings
        stored = warehouse.schema(TableRef.parse(name))
        assert stored is not None and model.dataset.columns == tuple(stored.names)
        assert {e.target.column for e in model.edges} == set(model.dataset.columns)
    for edge in found.edges():
        assert edge.target.column == "*" or edge.target.column in columns[edge.target.dataset]
        assert edge.source.column in columns[edge.source.dataset], edge
    assert {(str(e.source), e.kind) for e in found.datasets["gold.by_name"].indirect} == {
        ("bronze.people.name", "indirect"), ("bronze.people.status", "indirect")}
    assert found.warnings() == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []
    assert capfd.readouterr() == ("", "")
