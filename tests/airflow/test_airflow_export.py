"""`afluente airflow export`, loaded and run by real Apache Airflow (3.x, own venv, SQLite).

The DAG files are checked the way Airflow sees them (`DagBag`: import errors, DAG ids, task
ids, edges, retries, timeouts) against the graph afluente computes, then run end to end with
`dag.test()`: every task instance must succeed and the tables must get Delta versions.
The demo's three schedules (bronze, silver, gold) run with one task per layer (one per model
takes 24 afluente processes, a minute on this machine); one task per model runs end to end
on a small project.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.airflow.conftest import AFLUENTE_BIN, Airflow
from tests.cli_inprocess import run_afluente

from afluente.config import load_project
from afluente.model import TableRef, load_graph, select
from afluente.storage import Warehouse

START = "2026-01-02"

TINY = """\
name: tiny
run:
  retries: 3
  retry_delay: 5s
  retry_max_delay: 2m
  timeout: 10m
sources:
  events:
    type: files
    path: landing/*.csv
    columns: {id: BIGINT, v: BIGINT}
schedules:
  hourly:
    cron: "0 * * * *"
    timezone: America/Sao_Paulo
    catch_up: all
    select: "+gold.totals"
  nightly:
    cron: "30 2 * * *"
    select: "bronze.events gold.totals"
    full_refresh: true
    description: Nightly rebuild of the totals
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_tiny(root: Path) -> Path:
    """bronze.events → silver.clean (retries 5, timeout 30s) → gold.totals; gold.other."""
    write(root / "afluente.yml", TINY)
    write(root / "landing" / "a.csv", "id,v\n" + "".join(f"{i},{i * 10}\n" for i in range(20)))
    write(root / "models" / "silver" / "clean.sql", "/* @config\nretries: 5\ntimeout: 30s\n*/\n"
          "SELECT id, v FROM bronze.events WHERE v >= 0\n")
    write(root / "models" / "gold" / "totals.sql",
          "SELECT count(*) AS n, sum(v) AS total FROM silver.clean\n")
    write(root / "models" / "gold" / "other.sql", "SELECT id FROM bronze.events\n")
    return root


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return make_tiny(tmp_path / "tiny")


@pytest.fixture(scope="module")
def tiny_hourly_run(airflow: Airflow, tmp_path_factory: pytest.TempPathFactory
                    ) -> tuple[Path, dict[str, Any]]:
    """The tiny project's export (one task per model), loaded by Airflow and its hourly
    DAG run end to end, in one Airflow process; the project is not changed after."""
    base = tmp_path_factory.mktemp("tiny-run")
    root = make_tiny(base / "tiny")
    dags = export_ok(root, base / "dags")
    return root, airflow.run(base / "home", dags.parent, "tiny_hourly")


def export(project: Path, *args: str, out: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = ["-p", str(project), "airflow", "export", "--start-date", START,
               "--afluente-command", AFLUENTE_BIN, *args]
    if out is not None:
        command += ["--out", str(out)]
    return run_afluente(command)


def export_ok(project: Path, folder: Path, *args: str) -> Path:
    out = folder / f"{project.name}_dag.py"
    done = export(project, *args, out=out)
    assert done.returncode == 0, done.stderr
    return out


def model_edges(project: Path) -> set[tuple[str, str]]:
    graph = load_graph(load_project(project))
    return {(str(up), str(ref)) for ref, node in graph.nodes.items() for up in node.upstream}


def dag_edges(dag: dict[str, object]) -> set[tuple[str, str]]:
    tasks = dag["tasks"]
    assert isinstance(tasks, dict)
    return {(task_id, down) for task_id, task in tasks.items() for down in task["downstream"]}


def version_of(project: Path, ref: str) -> int | None:
    layer, name = ref.split(".")
    return Warehouse(load_project(project).warehouse_uri).version(TableRef(layer, name))


# -- the demo project ---------------------------------------------------------------------------


DEMO_DAGS = ["demo_shop_bronze_15m", "demo_shop_silver_hourly", "demo_shop_gold_daily"]


def test_demo_schedules_load_in_airflow_one_task_per_model_with_the_graphs_edges(
    airflow: Airflow, demo: Path, tmp_path: Path
) -> None:
    dags = export_ok(demo, tmp_path / "dags")
    bag = airflow.inspect(tmp_path / "home", dags.parent)

    assert bag["import_errors"] == {}
    assert sorted(bag["dags"]) == sorted(DEMO_DAGS)  # one per schedule of afluente.yml
    project = load_project(demo)
    graph = load_graph(project)
    for name, spec in project.config.schedules.items():
        dag = bag["dags"][f"demo_shop_{name}"]
        selected = {str(ref) for ref in select(graph, spec.select)}
        assert set(dag["tasks"]) == selected
        assert dag_edges(dag) == {(u, d) for u, d in model_edges(demo) if {u, d} <= selected}
        assert (dag["cron"], dag["timezone"], dag["catchup"]) == (
            spec.cron, spec.timezone, spec.catch_up == "all")
    every_task = set().union(*(bag["dags"][d]["tasks"] for d in DEMO_DAGS))
    assert every_task == {str(ref) for ref in graph.nodes} and len(every_task) == 26
    gold = bag["dags"]["demo_shop_gold_daily"]
    assert (gold["cron"], gold["timezone"], gold["catchup"]) == (
        "0 6 * * *", "America/Sao_Paulo", True)
    assert ("gold.fct_orders", "gold.revenue_by_state_month") in dag_edges(gold)
    orders = bag["dags"]["demo_shop_bronze_15m"]["tasks"]["bronze.orders"]  # sources are tasks
    assert orders["operator"] == "BashOperator"
    assert orders["bash_command"] == (
        f"{AFLUENTE_BIN} -p {demo} run --select bronze.orders --retries 0"
    )
    # the demo has no `run:` block: afluente's defaults become Airflow's
    assert (orders["retries"], orders["retry_delay"], orders["max_retry_delay"]) == (2, 2.0, 60.0)
    assert orders["retry_exponential_backoff"] is True
    assert orders["execution_timeout"] is None


def test_demo_schedules_per_layer_run_end_to_end_in_airflow(
    airflow: Airflow, demo: Path, tmp_path: Path
) -> None:
    project = tmp_path / "shop"
    shutil.copytree(demo, project)
    graph = load_graph(load_project(project))
    tables = sorted(str(ref) for ref, node in graph.nodes.items() if node.materialized)
    assert {version_of(project, t) for t in tables} == {None}  # Airflow builds every table
    dags = export_ok(project, tmp_path / "dags", "--group-by", "layer")

    bag = airflow.run(tmp_path / "home", dags.parent, *DEMO_DAGS)

    assert bag["import_errors"] == {}
    assert {d: list(bag["dags"][d]["tasks"]) for d in DEMO_DAGS} == {
        "demo_shop_bronze_15m": ["bronze"], "demo_shop_silver_hourly": ["silver"],
        "demo_shop_gold_daily": ["gold"]}
    gold = bag["dags"]["demo_shop_gold_daily"]["tasks"]["gold"]
    assert gold["bash_command"].endswith("run --select layer:gold --retries 0")
    assert {d: (r["state"], r["tasks"]) for d, r in bag["runs"].items()} == {
        "demo_shop_bronze_15m": ("success", {"bronze": "success"}),
        "demo_shop_silver_hourly": ("success", {"silver": "success"}),
        "demo_shop_gold_daily": ("success", {"gold": "success"}),
    }
    assert {t: version_of(project, t) for t in tables} == dict.fromkeys(tables, 0)
    runs = subprocess.run([AFLUENTE_BIN, "--json", "-p", str(project), "runs"],
                          capture_output=True, text=True, check=True).stdout
    assert sorted((r["selector"], r["status"]) for r in json.loads(runs)) == [
        ("layer:bronze", "success"), ("layer:gold", "success"), ("layer:silver", "success")
    ]


# -- schedules, retries and timeouts ------------------------------------------------------------


def test_each_schedule_is_a_dag_with_its_cron_timezone_retries_and_timeouts(
    tiny_hourly_run: tuple[Path, dict[str, Any]],
) -> None:
    _, bag = tiny_hourly_run

    assert bag["import_errors"] == {}
    assert sorted(bag["dags"]) == ["tiny_hourly", "tiny_nightly"]
    hourly, nightly = bag["dags"]["tiny_hourly"], bag["dags"]["tiny_nightly"]
    assert (hourly["cron"], hourly["timezone"], hourly["catchup"]) == (
        "0 * * * *", "America/Sao_Paulo", True)
    assert hourly["start_date"] == "2026-01-02T03:00:00+00:00"  # midnight in São Paulo
    assert (nightly["cron"], nightly["timezone"], nightly["catchup"]) == ("30 2 * * *", "UTC",
                                                                          False)
    # +gold.totals: its upstream, not gold.other
    assert set(hourly["tasks"]) == {"bronze.events", "silver.clean", "gold.totals"}
    assert dag_edges(hourly) == {("bronze.events", "silver.clean"),
                                 ("silver.clean", "gold.totals")}
    # silver.clean is not selected, but gold.totals still waits for bronze.events
    assert dag_edges(nightly) == {("bronze.events", "gold.totals")}
    assert nightly["tasks"]["gold.totals"]["bash_command"].endswith(
        "run --select gold.totals --retries 0 --full-refresh")

    events, clean = hourly["tasks"]["bronze.events"], hourly["tasks"]["silver.clean"]
    assert (events["retries"], events["retry_delay"], events["max_retry_delay"]) == (3, 5.0, 120.0)
    assert events["retry_exponential_backoff"] is True
    assert events["execution_timeout"] == 600.0  # run: timeout
    assert (clean["retries"], clean["execution_timeout"]) == (5, 30.0)  # the model's own


def test_a_schedule_per_model_runs_end_to_end_in_airflow(
    tiny_hourly_run: tuple[Path, dict[str, Any]],
) -> None:
    tiny, bag = tiny_hourly_run
    result = bag["runs"]["tiny_hourly"]

    assert result["state"] == "success"
    assert result["tasks"] == dict.fromkeys(["bronze.events", "silver.clean", "gold.totals"],
                                            "success")
    assert [version_of(tiny, t) for t in ("bronze.events", "silver.clean", "gold.totals")] == [
        0, 0, 0]
    assert version_of(tiny, "gold.other") is None  # not in the schedule's selection


def test_group_by_layer_runs_only_the_selected_tables_of_a_layer(
    airflow: Airflow, tiny: Path, tmp_path: Path
) -> None:
    dags = export_ok(tiny, tmp_path / "dags", "--group-by", "layer")
    bag = airflow.inspect(tmp_path / "home", dags.parent)

    assert bag["import_errors"] == {}
    hourly = bag["dags"]["tiny_hourly"]
    assert dag_edges(hourly) == {("bronze", "silver"), ("silver", "gold")}
    commands = {t: task["bash_command"].split(" run ", 1)[1] for t, task in hourly["tasks"].items()}
    assert commands == {"bronze": "--select layer:bronze --retries 0",
                        "silver": "--select layer:silver --retries 0",
                        "gold": "--select gold.totals --retries 0"}  # not gold.other
    assert hourly["tasks"]["silver"]["retries"] == 5  # the layer's models' largest override
    assert hourly["tasks"]["silver"]["execution_timeout"] == 30.0


# -- a Spark project ----------------------------------------------------------------------------


SPARK_ENGINES = """\
engine: {type: spark, master: "spark://127.0.0.1:7077", conf: {spark.cores.max: 2}}
engines:
  small: {type: duckdb}
"""


def test_a_spark_projects_tasks_name_their_engine_and_run_afluente_on_it(
    airflow: Airflow, tiny: Path, tmp_path: Path
) -> None:
    """Each task is `afluente run --select …` of the project, which builds its models on the
    project's engines (tests/engines/spark/test_spark_cluster.py runs that command on a real
    cluster); the DAG says which engine and where, as Airflow loads it."""
    config = tiny / "afluente.yml"
    config.write_text(config.read_text().replace("run:\n", SPARK_ENGINES + "run:\n", 1))
    totals = tiny / "models" / "gold" / "totals.sql"
    totals.write_text("/* @config\nengine: small\n*/\n" + totals.read_text())
    dags = export_ok(tiny, tmp_path / "dags")

    bag = airflow.inspect(tmp_path / "home", dags.parent)

    assert bag["import_errors"] == {}
    hourly = bag["dags"]["tiny_hourly"]
    assert hourly["tags"] == ["afluente", "engine:small", "engine:spark"]
    tasks = hourly["tasks"]
    assert tasks["silver.clean"]["doc_md"] == (
        "Builds `silver.clean` on the engine spark at spark://127.0.0.1:7077.")
    assert tasks["gold.totals"]["doc_md"] == "Builds `gold.totals` on the engine small (duckdb)."
    assert tasks["bronze.events"]["doc_md"] is None  # sources are read by afluente itself
    assert tasks["silver.clean"]["bash_command"] == (
        f"{AFLUENTE_BIN} -p {tiny} run --select silver.clean --retries 0")


def test_a_model_on_an_engine_the_project_lacks_is_refused_at_export(tiny: Path) -> None:
    clean = tiny / "models" / "silver" / "clean.sql"
    clean.write_text(clean.read_text().replace("retries: 5", "retries: 5\nengine: bigg"))

    done = export(tiny)

    assert done.returncode != 0
    assert "clean.sql:3" in done.stderr
    assert "no engine named `bigg`" in done.stderr


# -- the file itself ----------------------------------------------------------------------------


def test_the_file_is_deterministic_and_imports_only_airflow_and_the_standard_library(
    tiny: Path,
) -> None:
    first, second = export(tiny), export(tiny)

    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.startswith("# Generated by `afluente airflow export`")
    assert "airflow export --group-by model" in first.stdout.splitlines()[2]
    imported = set()
    for node in ast.walk(ast.parse(first.stdout)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported == {"__future__", "datetime", "pendulum", "airflow"}
    assert imported - {"airflow", "pendulum"} <= set(sys.stdlib_module_names) | {"__future__"}


# -- bad input ----------------------------------------------------------------------------------


def test_an_unknown_group_by_is_refused(tiny: Path) -> None:
    done = export(tiny, "--group-by", "table")

    assert done.returncode == 2
    message = " ".join(done.stderr.replace("│", " ").split())  # unwrap the rich error box
    assert "Invalid value for '--group-by': Value error, 'table' is not one of 'model', " \
        "'layer'" in message
    assert done.stdout == ""


def test_an_unwritable_out_is_a_clear_error(tiny: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")

    done = export(tiny, out=blocker / "dags" / "tiny.py")

    assert done.returncode == 2
    assert f"cannot write the DAG file {blocker / 'dags' / 'tiny.py'}" in done.stderr
    assert "hint: pass --out with a writable path" in done.stderr


def test_an_empty_afluente_command_is_refused(tiny: Path) -> None:
    done = run_afluente(["-p", str(tiny), "airflow", "export", "--afluente-command", " "])

    assert done.returncode == 2
    assert "--afluente-command ' ' is not a command" in done.stderr


def test_a_bad_schedule_names_its_line_in_afluente_yml(tiny: Path) -> None:
    text = (tiny / "afluente.yml").read_text().replace("America/Sao_Paulo", "America/Sao_Pablo")
    (tiny / "afluente.yml").write_text(text)

    done = export(tiny)

    line = text.splitlines().index("    timezone: America/Sao_Pablo") + 1
    assert done.returncode == 2
    assert f"afluente.yml:{line}" in done.stderr
    assert "schedule `hourly`: unknown timezone 'America/Sao_Pablo'" in done.stderr
    assert "America/Sao_Paulo" in done.stderr  # the suggestion


def test_layers_that_depend_on_each_other_cannot_be_one_task_each(tiny: Path) -> None:
    write(tiny / "afluente.yml", TINY.split("schedules:")[0])  # one DAG: the whole project
    write(tiny / "models" / "silver" / "late.sql", "SELECT n FROM gold.totals\n")

    by_layer = export(tiny, "--group-by", "layer")
    by_model = export(tiny)

    assert by_layer.returncode == 2
    assert "layers depend on each other in a cycle" in by_layer.stderr
    assert "hint: export with --group-by model" in by_layer.stderr
    assert by_model.returncode == 0, by_model.stderr


def test_json_output_names_the_file_dags_and_tasks(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "dags" / "tiny.py"
    done = run_afluente(["--json", "-p", str(tiny), "airflow", "export", "--out", str(out)])

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["path"] == str(out) and out.is_file()
    assert [(d["dag_id"], d["schedule"], d["tasks"]) for d in summary["dags"]] == [
        ("tiny_hourly", "0 * * * *", ["bronze.events", "silver.clean", "gold.totals"]),
        ("tiny_nightly", "30 2 * * *", ["bronze.events", "gold.totals"]),
    ]
