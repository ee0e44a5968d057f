"""Lineage and OpenLineage over the demo project: gold columns reach landing-file columns, and
every event of a demo run validates against the OpenLineage schemas."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.cli_inprocess import run_afluente
from tests.lineage.openlineage_schemas import validate_event

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.runtime import run_project
from afluente.runtime.openlineage import run_uuid


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    prepare_demo(root, orders=150, seed=3)
    with (root / "afluente.yml").open("a") as config:
        config.write("\nopenlineage:\n  transport: file\n  path: target/ol.ndjson\n")
    result = run_project(load_project(root), run_id="20261123T000000-abcdef")
    assert result.status == "success", [m.reason for m in result.failed]
    return root


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_afluente(["-p", str(root), *args])


def events(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (root / "target/ol.ndjson").read_text().splitlines()]


def test_gold_column_upstream_reaches_the_landing_file_columns(demo: Path) -> None:
    done = afluente(demo, "lineage", "gold.revenue_by_state_month.gross_revenue", "--upstream",
                    "--format", "json")
    assert done.returncode == 0, done.stderr
    graph = json.loads(done.stdout)
    assert {"source:order_items.quantity", "source:order_items.unit_price"} <= set(graph["nodes"])
    assert {"from": "bronze.order_items.quantity", "to": "silver.order_items.revenue",
            "kind": "transformation"} in graph["edges"]
    assert {"from": "source:order_items.quantity", "to": "bronze.order_items.quantity",
            "kind": "identity"} in graph["edges"]


def test_the_revenue_forecast_reaches_the_landing_file_columns(demo: Path) -> None:
    done = afluente(demo, "lineage", "gold.revenue_forecast.forecast", "--upstream",
                    "--format", "json")
    assert done.returncode == 0, done.stderr
    nodes = set(json.loads(done.stdout)["nodes"])
    assert {"gold.revenue_by_state_month.gross_revenue", "source:order_items.quantity",
            "source:order_items.unit_price"} <= nodes


def test_tree_shows_the_kinds_and_the_depth_limits_the_walk(demo: Path) -> None:
    done = afluente(demo, "lineage", "gold.revenue_by_state_month.uf", "--depth", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "gold.revenue_by_state_month.uf",
        "  └─ gold.dim_customer.uf  (transformation: coalesce)",
    ]


def test_downstream_of_a_bronze_column(demo: Path) -> None:
    done = afluente(demo, "lineage", "bronze.orders.status", "--downstream", "-f", "mermaid")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("flowchart LR")
    assert '["silver.orders.status"]' in done.stdout
    assert '["gold.fct_orders.status"]' in done.stdout


def test_table_lineage_as_dot(demo: Path) -> None:
    done = afluente(demo, "lineage", "gold.dim_date", "--format", "dot")
    assert done.returncode == 0, done.stderr
    assert 'label="silver.orders"' in done.stdout and 'label="source:orders"' in done.stdout


def test_unknown_table_and_column_suggest_close_matches(demo: Path) -> None:
    table = afluente(demo, "lineage", "gold.fct_order.status")
    assert table.returncode == 2
    assert "unknown table `gold.fct_order`" in table.stderr
    assert "did you mean `gold.fct_orders`" in table.stderr
    column = afluente(demo, "lineage", "gold.fct_orders.statu")
    assert column.returncode == 2
    assert "`gold.fct_orders` has no column `statu`" in column.stderr
    assert "did you mean `status`" in column.stderr


def test_every_event_of_the_demo_run_validates_against_the_schemas(demo: Path) -> None:
    found = events(demo)
    assert found
    for event in found:
        validate_event(event)


def test_each_model_has_start_and_complete_under_the_pipeline_run(demo: Path) -> None:
    found = events(demo)
    parent = run_uuid("20261123T000000-abcdef")
    by_job: dict[str, list[str]] = {}
    for event in found:
        by_job.setdefault(event["job"]["name"], []).append(event["eventType"])
        if event["job"]["name"] != "demo_shop":
            assert event["run"]["facets"]["parent"]["run"]["runId"] == parent
            assert event["run"]["runId"] == run_uuid("20261123T000000-abcdef",
                                                     event["job"]["name"])
    assert by_job["demo_shop"] == ["START", "COMPLETE"]
    assert by_job["gold.revenue_by_state_month"] == ["START", "COMPLETE"]
    assert by_job["bronze.orders"] == ["START", "COMPLETE"]


def test_complete_event_carries_lineage_version_rows_and_sql(demo: Path) -> None:
    complete = next(e for e in events(demo) if e["job"]["name"] == "gold.fct_orders"
                    and e["eventType"] == "COMPLETE")
    assert "FROM silver.orders" in complete["job"]["facets"]["sql"]["query"]
    assert complete["job"]["facets"]["jobType"]["jobType"] == "MODEL"
    assert complete["job"]["facets"]["sourceCodeLocation"]["url"].endswith("fct_orders.sql")
    output = complete["outputs"][0]
    assert output["facets"]["version"]["datasetVersion"] == "0"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] > 0
    status = output["facets"]["columnLineage"]["fields"]["status"]
    assert status["transformationType"] == "IDENTITY"
    silver_orders = str(demo / "warehouse/silver/orders")
    assert [(f["namespace"], f["name"], f["field"], f["transformations"][0]["subtype"])
            for f in status["inputFields"]] == [("file", silver_orders, "status", "IDENTITY")]
    names = {f["name"] for f in output["facets"]["schema"]["fields"]}
    assert {"order_id", "status"} <= names
    inputs = {i["name"]: i for i in complete["inputs"]}
    assert inputs[silver_orders]["facets"]["version"]["datasetVersion"] == "0"


def test_tables_are_named_by_their_delta_path_with_the_table_name_as_symlink(
        demo: Path) -> None:
    complete = next(e for e in events(demo) if e["job"]["name"] == "gold.fct_orders"
                    and e["eventType"] == "COMPLETE")
    [output] = complete["outputs"]
    table = str(demo / "warehouse/gold/fct_orders")
    assert (output["namespace"], output["name"]) == ("file", table)
    assert output["facets"]["dataSource"]["uri"] == "file:///"
    assert output["facets"]["symlinks"]["identifiers"] == [
        {"namespace": "demo_shop", "name": "gold.fct_orders", "type": "TABLE"}]


def test_bronze_event_reads_the_landing_files(demo: Path) -> None:
    complete = next(e for e in events(demo) if e["job"]["name"] == "bronze.orders"
                    and e["eventType"] == "COMPLETE")
    [source] = complete["inputs"]
    assert source["namespace"] == "file"
    assert source["name"] == str(demo / "landing/orders/*.csv")
    assert source["facets"]["dataSource"] == {
        **source["facets"]["dataSource"], "name": "file", "uri": "file:///"}
    assert "symlinks" not in source["facets"]
    fields = complete["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert fields["status"]["inputFields"][0]["field"] == "status"


def _small_project(root: Path, openlineage: str, bad: bool = False) -> Path:
    (root / "landing").mkdir(parents=True)
    (root / "landing" / "a.csv").write_text("id,name\n1,ana\n2,bia\n")
    (root / "models" / "silver").mkdir(parents=True)
    (root / "models" / "silver" / "people.sql").write_text(
        "SELECT id, upper(name) AS name FROM bronze.people" if not bad
        else "SELECT id, 1/0 AS x, CAST(name AS INTEGER) AS n FROM bronze.people")
    (root / "afluente.yml").write_text(
        "name: small\nsources:\n  people:\n    type: files\n    path: landing/*.csv\n"
        "    format: csv\n" + openlineage)
    return root


def test_failed_model_emits_fail_with_the_error_message(tmp_path: Path) -> None:
    root = _small_project(tmp_path, "openlineage: {transport: file}\n", bad=True)
    result = run_project(load_project(root))
    assert result.status == "failed"
    found = [json.loads(x) for x in (root / "target/openlineage.ndjson").read_text().splitlines()]
    for event in found:
        validate_event(event)
    start, fail = [e for e in found if e["job"]["name"] == "silver.people"]
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert start["run"]["runId"] == fail["run"]["runId"]
    error = fail["run"]["facets"]["errorMessage"]
    assert error["programmingLanguage"] == "python"
    assert "Could not convert string 'ana' to INT32" in error["message"]
    pipeline_start, pipeline_fail = [e for e in found if e["job"]["name"] == "small"]
    assert (pipeline_start["eventType"], pipeline_fail["eventType"]) == ("START", "FAIL")
    assert "errorMessage" not in pipeline_start["run"].get("facets", {})
    pipeline_error = pipeline_fail["run"]["facets"]["errorMessage"]
    assert pipeline_error["programmingLanguage"] == "python"
    assert pipeline_error["message"].startswith("silver.people: ")
    assert "Could not convert string 'ana' to INT32" in pipeline_error["message"]


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Collector.received
    server.shutdown()
    server.server_close()


def test_http_transport_posts_every_event_to_the_lineage_endpoint(
    tmp_path: Path, collector: tuple[str, list[tuple[str, dict[str, Any]]]]
) -> None:
    url, received = collector
    root = _small_project(tmp_path, f"openlineage:\n  transport: http\n  url: {url}\n"
                                    "  namespace: team_a\n")
    assert run_project(load_project(root)).status == "success"
    assert {path for path, _ in received} == {"/api/v1/lineage"}
    assert [(e["job"]["name"], e["eventType"]) for _, e in received] == [
        ("small", "START"), ("bronze.people", "START"), ("bronze.people", "COMPLETE"),
        ("silver.people", "START"), ("silver.people", "COMPLETE"), ("small", "COMPLETE"),
    ]
    for _, event in received:
        validate_event(event)
        assert event["job"]["namespace"] == "team_a"
    name = received[4][1]["outputs"][0]["facets"]["columnLineage"]["fields"]["name"]
    assert name["transformationType"] == "TRANSFORMATION"
    assert name["inputFields"][0]["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "upper", "masking": False}]


def test_hashed_and_counted_inputs_are_masking_summed_ones_are_not(tmp_path: Path) -> None:
    root = _small_project(tmp_path, "openlineage: {transport: file}\n")
    (root / "models" / "silver" / "people.sql").write_text(
        "SELECT sha256(name) AS name_key, count(name) AS names, sum(CAST(id AS INT)) AS ids "
        "FROM bronze.people GROUP BY name")
    assert run_project(load_project(root)).status == "success"
    found = [json.loads(x) for x in (root / "target/openlineage.ndjson").read_text().splitlines()]
    [complete] = [e for e in found
                  if e["job"]["name"] == "silver.people" and e["eventType"] == "COMPLETE"]
    validate_event(complete)
    fields = complete["outputs"][0]["facets"]["columnLineage"]["fields"]
    masking = {(column, i["field"], t["subtype"], t["masking"])
               for column, field in fields.items() for i in field["inputFields"]
               for t in i["transformations"]}
    assert masking == {("name_key", "name", "TRANSFORMATION", True),
                       ("names", "name", "AGGREGATION", True),
                       ("ids", "id", "AGGREGATION", False)}


def test_unreachable_http_endpoint_does_not_fail_the_run(tmp_path: Path) -> None:
    root = _small_project(tmp_path, "openlineage: {transport: http, url: 'http://127.0.0.1:9'}\n")
    assert run_project(load_project(root)).status == "success"


def test_http_without_url_is_a_config_error(tmp_path: Path) -> None:
    from afluente.errors import ConfigError

    root = _small_project(tmp_path, "openlineage: {transport: http}\n")
    with pytest.raises(ConfigError) as info:
        run_project(load_project(root))
    assert "openlineage: `transport: http` needs a `url`" in str(info.value)
    assert "afluente.yml" in str(info.value)


def test_expectations_are_reported_as_data_quality_facets(tmp_path: Path) -> None:
    root = _small_project(tmp_path, "openlineage: {transport: file}\n")
    (root / "models" / "silver" / "people.sql").write_text(
        "/* @config\nexpectations:\n"
        "  - {name: id_present, not_null: id, action: fail}\n"
        "  - {name: short_names, length: {column: name, max: 2}, action: warn}\n*/\n"
        "SELECT id, upper(name) AS name FROM bronze.people")
    assert run_project(load_project(root)).status == "success"
    found = [json.loads(x) for x in (root / "target/openlineage.ndjson").read_text().splitlines()]
    for event in found:
        validate_event(event)
    [complete] = [e for e in found
                  if e["job"]["name"] == "silver.people" and e["eventType"] == "COMPLETE"]
    [output] = complete["outputs"]
    assertions = {a["name"]: a for a in output["facets"]["dataQualityAssertions"]["assertions"]}
    assert assertions["id_present"]["success"] is True
    assert assertions["id_present"]["severity"] == "error"
    assert assertions["short_names"]["success"] is False  # ANA and BIA have three letters
    assert assertions["short_names"]["actual"] == "2 failing rows"
    assert output["facets"]["dataQualityMetrics"]["rowCount"] == 2
