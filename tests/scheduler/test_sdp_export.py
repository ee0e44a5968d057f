"""`afluente spark export`: the project as a Spark Declarative Pipelines project.

The files' content is checked without Spark (which construct each kind became, its keys,
the refusals); one test runs the real `spark-pipelines dry-run` on an export (it starts its
own Spark Connect server: about 20 to 110 s here, so only once in the suite)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import require_component
from tests.scheduler.sdp_project import make_project, write
from typer.testing import CliRunner

from afluente.cli.app import _register, app
from afluente.config import load_project
from afluente.errors import ConfigError, ModelError
from afluente.model import TableRef, load_graph
from afluente.scheduler.sdp_export import SdpExport, plan_export, write_export

_register()
STORAGE = "file:///tmp/sdp-storage"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "shop")


def export(root: Path, out: Path, select: str | None = None) -> SdpExport:
    loaded = load_project(root)
    plan = plan_export(loaded, load_graph(loaded), select, STORAGE)
    write_export(plan, out)
    return plan


def calls(path: Path) -> dict[str, dict[str, Any]]:
    """The keyword arguments of each `dp.<name>(...)` call and decorator in a Python file."""
    found: dict[str, dict[str, Any]] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(
            node.func.value, ast.Name
        ) and node.func.value.id == "dp":
            found[node.func.attr] = {
                **{f"arg{i}": ast.literal_eval(a) for i, a in enumerate(node.args)},
                **{k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg},
            }
    return found


def test_each_kind_and_source_becomes_its_sdp_construct(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "sdp"
    plan = export(project, out)
    spec = yaml.safe_load((out / "spark-pipeline.yml").read_text())
    assert spec == {"name": "shop_sdp", "storage": STORAGE,
                    "configuration": {"spark.sql.session.timeZone": "UTC"},
                    "libraries": [{"glob": {"include": "transformations/**"}}]}
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == [
        "models/gold/paid_positive.py", "models/gold/status_counts.py",
        "models/silver/order_stream.py", "spark-pipeline.yml",
        "transformations/bronze/customer_changes.py", "transformations/bronze/order_events.sql",
        "transformations/bronze/orders.py", "transformations/bronze/sellers.py",
        "transformations/gold/big_orders.sql", "transformations/gold/customer_history.py",
        "transformations/gold/paid_positive.py", "transformations/gold/status_counts.py",
        "transformations/silver/order_log.sql", "transformations/silver/order_stream.py",
        "transformations/silver/orders.sql", "transformations/silver/paid.sql",
    ]
    assert {str(d.ref): d.construct for d in plan.definitions} == {
        "bronze.customer_changes": "streaming table (file stream)",
        "bronze.order_events": "streaming table",
        "bronze.orders": "streaming table (file stream)",
        "bronze.sellers": "materialized view (files)",
        "gold.big_orders": "materialized view",
        "gold.customer_history": "streaming table + auto CDC flow",
        "gold.paid_positive": "materialized view",
        "gold.status_counts": "materialized view",
        "silver.order_log": "streaming table",
        "silver.order_stream": "streaming table",
        "silver.orders": "materialized view",
        "silver.paid": "temporary view",
    }
    assert plan.external == ()


def test_sql_models_are_spark_sql_with_views_streams_vars_and_expectation_comments(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sdp"
    export(project, out)
    orders = (out / "transformations/silver/orders.sql").read_text()
    assert "CREATE MATERIALIZED VIEW silver.orders\nCOMMENT 'Orders, typed; one row per " \
           "order_id.' AS\nSELECT" in orders
    assert "QUALIFY" not in orders and "_w = 1" in orders  # transpiled to Spark SQL
    assert "@config" not in orders  # the header stays in the model file
    assert ('-- expectation (not enforced: pyspark.pipelines has no expectations API): '
            '{"action": "fail", "name": "one_row_per_order", "unique": "order_id"}') in orders
    paid = (out / "transformations/silver/paid.sql").read_text()
    assert "CREATE TEMPORARY VIEW silver__paid AS\nSELECT" in paid
    big = (out / "transformations/gold/big_orders.sql").read_text()
    assert "FROM `silver__paid` AS p\nWHERE\n  p.amount >= 10" in big  # view renamed, var set
    log = (out / "transformations/silver/order_log.sql").read_text()
    assert "CREATE STREAMING TABLE silver.order_log" in log
    assert "FROM STREAM(bronze.orders) AS o\nLEFT JOIN silver.orders AS s" in log


def test_apply_changes_is_an_auto_cdc_flow_with_its_keys(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "sdp"
    plan = export(project, out)
    path = out / "transformations/gold/customer_history.py"
    found = calls(path)
    assert found["create_streaming_table"] == {"arg0": "gold.customer_history"}
    assert found["temporary_view"] == {"name": "gold__customer_history__changes"}
    assert found["create_auto_cdc_flow"] == {
        "target": "gold.customer_history", "source": "gold__customer_history__changes",
        "keys": ["customer_id"], "sequence_by": "changed_at", "apply_as_deletes": "op = 'D'",
        "except_column_list": ["op"], "stored_as_scd_type": 2,
        "track_history_column_list": ["city"],
    }
    assert "FROM STREAM(bronze.order_events) AS order_events" in path.read_text()
    assert ("gold.customer_history: SCD2 validity columns are SDP's __START_AT/__END_AT, not "
            "valid_from/valid_to/is_current") in plan.notes


def test_sources_read_their_files_with_the_same_options(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "sdp"
    plan = export(project, out)
    orders = (out / "transformations/bronze/orders.py").read_text()
    assert f"PATH = {str(project / 'landing/orders/*.csv')!r}" in orders
    assert ("OPTIONS = {'sep': ';', 'header': 'true', 'quote': '\"', 'escape': '\"', "
            "'encoding': 'utf-8'}") in orders
    assert calls(out / "transformations/bronze/orders.py")["table"] == {
        "name": "bronze.orders", "comment": "source orders"}
    assert "spark.readStream.format(FORMAT)" in orders
    for column in ("_rescued_data", "_source", "_ingested_at", "_run_id", "_row_hash"):
        assert f'.alias("{column}")' in orders
    sellers = (out / "transformations/bronze/sellers.py").read_text()
    assert "'sep': '\\t'" in sellers and "spark.read.format(FORMAT)" in sellers
    assert "materialized_view" in calls(out / "transformations/bronze/sellers.py")
    assert ("bronze.orders: Spark's file stream reads each file name once: a file changed "
            "after it was read is not read again (afluente: `changed_files: replace`)"
            ) in plan.notes


def test_python_models_are_called_with_spark_frames_from_a_copy(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sdp"
    export(project, out)
    definition = out / "transformations/gold/status_counts.py"
    assert calls(definition)["materialized_view"] == {
        "name": "gold.status_counts", "comment": "Orders per status."}
    assert "MODEL(orders=spark.read.table('silver.orders'))" in definition.read_text()
    assert (out / "models/gold/status_counts.py").read_text() == (
        project / "models/gold/status_counts.py").read_text()
    streamed = (out / "transformations/silver/order_stream.py").read_text()
    assert "MODEL(spark.readStream.table('bronze.orders'))" in streamed  # its append-only input
    assert calls(out / "transformations/silver/order_stream.py")["table"] == {
        "name": "silver.order_stream"}
    over_view = (out / "transformations/gold/paid_positive.py").read_text()
    assert "MODEL(spark.read.table('silver__paid'))" in over_view


def test_select_exports_the_chosen_tables_and_reports_what_they_read(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sdp"
    plan = export(project, out, "gold.big_orders")
    assert [str(d.ref) for d in plan.definitions] == ["gold.big_orders"]
    assert plan.external == (TableRef("silver", "paid"),)
    text = (out / "transformations/gold/big_orders.sql").read_text()
    assert "FROM silver.paid AS p" in text  # outside the export: read from the catalog


def test_tables_without_an_sdp_equivalent_are_refused_all_at_once(
    project: Path, tmp_path: Path
) -> None:
    models = project / "models"
    write(models / "silver" / "latest.sql", "/* @config\nkind: merge\nunique_key: order_id\n*/\n"
          "SELECT order_id FROM bronze.orders\n")
    write(models / "silver" / "daily.sql", "/* @config\nkind: time_range\ntime_column: at\n*/\n"
          "SELECT current_timestamp AS at FROM bronze.orders\n")
    write(models / "silver" / "snap.sql", "/* @config\nkind: snapshot\nkeys: [order_id]\n*/\n"
          "SELECT order_id FROM silver.orders\n")
    write(models / "gold" / "appended.sql", "/* @config\nkind: append\n*/\n"
          "SELECT order_id FROM silver.orders\n")
    write(models / "gold" / "asof.sql", "SELECT a.order_id FROM silver.orders AS a\n"
          "ASOF JOIN silver.orders AS b ON a.order_id >= b.order_id\n")
    write(models / "gold" / "history.sql", "/* @config\nkind: apply_changes\nkeys: [id]\n"
          "sequence_by: at\napply_as_deletes: \"op = (\"\n*/\n"
          "SELECT 1 AS id, op, _ingested_at AS at FROM bronze.orders\n")
    write(models / "gold" / "duck.py", "import duckdb\n\nimport afluente\n\n\n"
          "@afluente.table(inputs=['silver.orders'])\n"
          "def duck(orders: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:\n"
          "    return orders.query('o', 'SELECT * FROM o')\n")
    out = tmp_path / "sdp"
    with pytest.raises(ModelError) as caught:
        export(project, out)
    message = caught.value.render()
    assert message.startswith("7 table(s) have no Spark Declarative Pipelines equivalent:\n")
    expected = {
        "silver.latest": "kind `merge`: SDP has no upsert in arrival order",
        "silver.daily": "kind `time_range`: SDP has no flow that replaces time partitions",
        "silver.snap": "kind `snapshot`: pyspark.pipelines has no SCD2-from-snapshots flow",
        "gold.appended": "kind `append` reads only new upstream rows, but none of its inputs "
                         "is append-only in the export",
        "gold.asof": "ASOF JOIN is DuckDB-only SQL and does not translate to Spark SQL",
        "gold.duck": "a Python model written for DuckDB relations",
        "gold.history": "`apply_as_deletes: op = (` does not translate to Spark SQL",
    }
    for ref, reason in expected.items():
        line = next(x for x in message.splitlines() if x.startswith(f"  {ref} ("))
        assert reason in line, line
    assert f"  gold.asof ({models / 'gold' / 'asof.sql'}:2" in message
    assert "hint: export only the tables SDP can express with --select" in message
    assert not out.exists()  # nothing written


def test_sources_spark_cannot_read_the_same_way_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "files"
    write(root / "afluente.yml", "name: files\nsources:\n"
          "  sheet: {type: files, path: in/*.xlsx, format: xlsx}\n"
          "  typed: {type: files, path: in/*.csv, columns: {id: BIGINT}}\n"
          "  docs: {type: files, path: in/*.json, format: json}\n")
    with pytest.raises(ModelError) as caught:
        export(root, tmp_path / "sdp")
    message = caught.value.render()
    assert "bronze.sheet" in message and "format `xlsx`: Spark has no built-in xlsx reader" \
        in message
    assert "source `typed`: type hints in `columns:`" in message
    assert "format `json`: afluente auto-detects a JSON array or JSON lines" in message


def test_an_append_over_a_snapshot_source_is_refused(project: Path, tmp_path: Path) -> None:
    write(project / "models" / "silver" / "seller_log.sql",
          "/* @config\nkind: append\n*/\nSELECT seller_id FROM bronze.sellers\n")
    with pytest.raises(ModelError, match=r"silver\.seller_log .*none of its inputs is "
                       "append-only"):
        export(project, tmp_path / "sdp")


def test_the_command_writes_the_project_and_reports_it(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "sdp"
    result = CliRunner().invoke(app, ["-p", str(project), "--json", "spark", "export",
                                      "--out", str(out), "--select", "silver.orders silver.paid"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["path"] == str(out)
    assert payload["tables"] == [
        {"table": "silver.orders", "construct": "materialized view",
         "file": "transformations/silver/orders.sql"},
        {"table": "silver.paid", "construct": "temporary view",
         "file": "transformations/silver/paid.sql"},
    ]
    assert payload["external"] == ["bronze.orders"]
    assert payload["notes"] == ["2 expectation(s) written as comments (not enforced: "
                                "pyspark.pipelines has no expectations API)"]
    assert (out / "spark-pipeline.yml").is_file()
    again = CliRunner().invoke(app, ["-p", str(project), "spark", "export", "--out", str(out),
                                     "-s", "silver.orders"])
    assert again.exit_code == 0, again.output  # an earlier export is replaced
    assert again.output.startswith(f"wrote {out}: 1 table(s), check it with `spark-pipelines "
                                   f"dry-run --spec {out}/spark-pipeline.yml`\n")
    assert not (out / "transformations/silver/paid.sql").exists()


def test_an_out_folder_with_other_files_is_refused(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "busy"
    write(out / "notes.txt", "mine")
    with pytest.raises(ConfigError, match="is a folder with other files and no "
                       r"spark-pipeline\.yml"):
        export(project, out)
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_spark_pipelines_dry_run_accepts_the_export(project: Path, tmp_path: Path) -> None:
    """The one real Spark run of this file: `spark-pipelines dry-run` on the whole export."""
    binary = Path(sys.executable).parent / "spark-pipelines"
    if not binary.is_file():
        require_component("spark-pipelines", "pip install 'afluente[spark]'")
    if shutil.which("java") is None:
        require_component("Java", "spark-pipelines needs a Java 17 runtime")
    out = tmp_path / "sdp"
    export(project, out)
    source = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([str(binary), "dry-run", "--spec", str(out / "spark-pipeline.yml")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "Run is COMPLETED." in log
    assert "Found 12 files matching glob 'transformations/**/*'" in log


def test_the_demo_exports_but_for_its_two_tables_sdp_cannot_express(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "src" / "afluente" / "demo" / "project"
    loaded = load_project(demo)
    graph = load_graph(loaded)
    with pytest.raises(ModelError) as caught:
        plan_export(loaded, graph, None, STORAGE)
    refused = [line.split(" (")[0].strip() for line in caught.value.message.splitlines()[1:]]
    assert refused == ["gold.dim_customer", "silver.orders"]
    rest = " ".join(str(r) for r in graph.order if str(r) not in refused)
    plan = plan_export(loaded, graph, rest, STORAGE)
    assert len(plan.definitions) == 24
    assert plan.notes[-1] == ("19 expectation(s) written as comments (not enforced: "
                              "pyspark.pipelines has no expectations API)")
    assert [str(r) for r in plan.external] == refused
    assert plan.expectations == 19


def test_a_spark_projects_sql_settings_go_into_the_spec(project: Path, tmp_path: Path) -> None:
    config = project / "afluente.yml"
    config.write_text(config.read_text() + "engine:\n  type: spark\n  conf:\n"
                      "    spark.sql.shuffle.partitions: 4\n    spark.sql.ansi.enabled: true\n"
                      "    spark.executor.memory: 2g\n")
    out = tmp_path / "sdp"
    export(project, out)
    spec = yaml.safe_load((out / "spark-pipeline.yml").read_text())
    assert spec["configuration"] == {"spark.sql.session.timeZone": "UTC",
                                     "spark.sql.ansi.enabled": "true",
                                     "spark.sql.shuffle.partitions": "4"}
