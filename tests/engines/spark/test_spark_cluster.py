"""The Spark engine on a real standalone cluster: a master and two workers started by a
fixture on 127.0.0.1, each worker with one core and 1g, executors in JVMs of their own.

A pyspark process holds one SparkContext, and the other Spark tests share theirs
(`local[2]`), so the project is built in a subprocess through the CLI (`python -m
afluente.cli run`) with `master: spark://127.0.0.1:<port>`; its tables must hold what
DuckDB writes. Without Java or pyspark the test skips, or fails under `CI=true`."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require_component
from tests.engines.spark.content import (
    content_hash,
    demo_project,
    demo_tables,
    differing,
    land_second_batch,
    merged,
)
from tests.engines.spark.test_spark_project import TABLES, make_project

from afluente.config import load_project
from afluente.runtime.runner import run_project

pytestmark = pytest.mark.slow

WORKERS = 2
REGISTER_WITHIN_S = 120.0
SPARK_CLASS = Path(sys.executable).with_name("spark-class")


@dataclass(frozen=True)
class Cluster:
    master: str  # spark://127.0.0.1:<port>
    ui: str  # the master's web UI, whose /json/ lists the workers
    work: Path  # worker{n}/ holds each worker's executor folders


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _require_spark() -> None:
    if importlib.util.find_spec("pyspark") is None:
        require_component("pyspark", "pip install 'afluente[spark]'")
    if shutil.which("java") is None:
        require_component("Java", "Spark needs a Java 17 runtime")
    if not SPARK_CLASS.exists():
        require_component("spark-class", f"pyspark installs it beside {sys.executable}")


def _cluster_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(work / "logs"),
        "SPARK_NO_DAEMONIZE": "1",
        "PYSPARK_PYTHON": sys.executable,  # executors run Python UDFs with the venv's Python
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_DAEMON_MEMORY": "512m",
    })
    return env


def _alive_workers(ui: str) -> int:
    try:
        with urllib.request.urlopen(f"{ui}/json/", timeout=2) as response:
            status: dict[str, Any] = json.load(response)
    except OSError:
        return 0  # the master's UI is not up yet
    return sum(1 for worker in status.get("workers", []) if worker.get("state") == "ALIVE")


def _wait_for_workers(ui: str, processes: list[subprocess.Popen[bytes]], logs: Path) -> None:
    """Poll the master's JSON status until every worker registered (a dead JVM fails it)."""
    deadline = time.monotonic() + REGISTER_WITHIN_S
    while _alive_workers(ui) < WORKERS:
        dead = [p.args for p in processes if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            tails = "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}"
                              for log in sorted(logs.glob("*.log")))
            reason = f"exited: {dead}" if dead else f"not registered in {REGISTER_WITHIN_S}s"
            pytest.fail(f"the standalone cluster did not start ({reason})\n{tails}")
        time.sleep(0.5)


def _start(arguments: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([str(SPARK_CLASS), *arguments], stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A standalone master and two workers (1 core, 1g each), torn down at the end."""
    _require_spark()
    work = tmp_path_factory.mktemp("spark-cluster")
    logs = work / "logs"
    logs.mkdir()
    env = _cluster_env(work)
    port, ui_port = free_port(), free_port()
    master = f"spark://127.0.0.1:{port}"
    ui = f"http://127.0.0.1:{ui_port}"
    processes = [_start(["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                         "--port", str(port), "--webui-port", str(ui_port)],
                        logs / "master.log", env)]
    try:
        for n in range(WORKERS):
            processes.append(_start(
                ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                 "--cores", "1", "--memory", "1g", "--webui-port", str(free_port()),
                 "--work-dir", str(work / f"worker{n}"), master],
                logs / f"worker{n}.log", env))
        _wait_for_workers(ui, processes, logs)
        yield Cluster(master, ui, work)
    finally:
        for process in reversed(processes):
            _stop(process)


CLUSTER_ENGINE = (
    "engine: {{type: spark, master: '{master}', conf: {{spark.sql.shuffle.partitions: 2, "
    "spark.executor.memory: 512m, spark.executor.cores: 1, spark.cores.max: 2, "
    "spark.driver.memory: 1g}}}}"
)


def run_cli(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m afluente.cli` in a process of its own (its own SparkContext)."""
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.run(
        [sys.executable, "-m", "afluente.cli", "--project", str(root), *arguments],
        capture_output=True, text=True, env=env, timeout=900, check=False)


@pytest.fixture(scope="module")
def built_on_cluster(
    spark_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    base = tmp_path_factory.mktemp("cluster-projects")
    on_duckdb = make_project(base / "duck", "engine: duckdb")
    result = run_project(load_project(on_duckdb))
    assert result.status == "success", result.error
    on_cluster = make_project(base / "cluster", CLUSTER_ENGINE.format(master=spark_cluster.master))
    return on_duckdb, on_cluster, run_cli(on_cluster, "run")


def test_the_cli_builds_the_project_on_the_cluster(
    built_on_cluster: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    _, _, process = built_on_cluster

    assert process.returncode == 0, process.stdout + process.stderr


@pytest.mark.parametrize(("layer", "name"), TABLES)
def test_the_cluster_writes_the_same_tables_as_duckdb(
    built_on_cluster: tuple[Path, Path, subprocess.CompletedProcess[str]], layer: str, name: str
) -> None:
    on_duckdb, on_cluster, process = built_on_cluster
    assert process.returncode == 0, process.stdout + process.stderr

    assert content_hash(on_cluster, layer, name) == content_hash(on_duckdb, layer, name)


def test_the_cluster_ran_executors_on_both_workers(
    spark_cluster: Cluster,
    built_on_cluster: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    with urllib.request.urlopen(f"{spark_cluster.ui}/json/", timeout=5) as response:
        status = json.load(response)

    finished = [app for app in status["completedapps"] if app["name"] == "afluente"]
    assert len(finished) == 1, status["completedapps"]
    app_id = finished[0]["id"]
    for n in range(WORKERS):  # each worker launched an executor JVM for the run
        assert list((spark_cluster.work / f"worker{n}" / app_id).iterdir())
    assert _alive_workers(spark_cluster.ui) == WORKERS


@pytest.fixture(scope="module")
def demo_on_cluster(
    spark_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """`afluente demo`'s project through the CLI on the cluster and in-process on DuckDB:
    a first run, then a second over a second batch of landing files."""
    base = tmp_path_factory.mktemp("cluster-demo")
    on_duckdb = demo_project(base / "duck", "engine: duckdb")
    on_cluster = demo_project(base / "cluster",
                              CLUSTER_ENGINE.format(master=spark_cluster.master))
    runs = []
    for run in range(2):
        assert run_project(load_project(on_duckdb)).status == "success"
        runs.append(run_cli(on_cluster, "run"))
        if run == 0:
            land_second_batch(on_duckdb)
            land_second_batch(on_cluster)
    return {"duckdb": on_duckdb, "cluster": on_cluster, "runs": runs}


def test_the_cluster_builds_the_demo_as_duckdb_does(demo_on_cluster: dict[str, Any]) -> None:
    first, second = demo_on_cluster["runs"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]

    assert differing(demo_on_cluster["duckdb"], demo_on_cluster["cluster"]) == []
    assert len(demo_tables(demo_on_cluster["cluster"])) == 19
    assert merged(demo_on_cluster["cluster"], "silver", "orders")  # the second run upserted

