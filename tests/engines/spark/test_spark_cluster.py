"""The Spark engine on a real standalone cluster: a master and two workers started by a
fixture on 127.0.0.1, each worker with one core and 1g, executors in JVMs of their own.

A pyspark process holds one SparkContext, and the other Spark tests share theirs
(`local[2]`), so the demo is built in a subprocess through the CLI (`python -m
afluente.cli run`) with `master: spark://127.0.0.1:<port>`, a first run and a second over
new landing files; after each its tables must hold what DuckDB writes (the session's
`duckdb_demo`). The first run is started once before and killed with SIGKILL (its process
group: the Python driver and its JVM) once its first model committed: every table it
leaves must be whole, the run shown as failed, and the cluster free for the next run, which
builds the demo in the folder the killed run left. Without Java or pyspark the test skips,
or fails under `CI=true`."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import os
import shutil
import signal
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
from deltalake import DeltaTable
from tests.conftest import require_component
from tests.engines.spark.conftest import DemoTwin
from tests.engines.spark.content import (
    RUN_TIME_COLUMNS,
    content_hash,
    demo_project,
    demo_tables,
    differing,
    differing_from,
    land_second_batch,
    merged,
    table_path,
)

from afluente.storage.staged import STAGING

pytestmark = pytest.mark.slow

WORKERS = 2
REGISTER_WITHIN_S = 120.0
KILL_WITHIN_S = 600.0  # the killed run's first model commits after its Spark session starts
QUARANTINE = "__quarantine"
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


def _master_status(ui: str) -> dict[str, Any]:
    """The master's JSON status (workers, active and completed apps); {} while it is not up."""
    try:
        with urllib.request.urlopen(f"{ui}/json/", timeout=2) as response:
            status: dict[str, Any] = json.load(response)
    except OSError:
        return {}
    return status


def _alive_workers(ui: str) -> int:
    status = _master_status(ui)
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


def _cli_env() -> dict[str, str]:
    return dict(os.environ, PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1",
                PYTHONPATH=os.pathsep.join(p for p in sys.path if p))


def run_cli(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m afluente.cli` in a process of its own (its own SparkContext)."""
    return subprocess.run(
        [sys.executable, "-m", "afluente.cli", "--project", str(root), *arguments],
        capture_output=True, text=True, env=_cli_env(), timeout=900, check=False)


@dataclass(frozen=True)
class KilledRun:
    """What a run killed with SIGKILL after its first model committed left behind."""

    root: Path
    returncode: int  # -SIGKILL: the run was killed, it did not finish
    run_id: str
    app_id: str  # its Spark application on the cluster
    tables: dict[str, str]  # layer.table -> its content hash at its latest version, or why not
    stray_files: dict[str, list[str]]  # layer.table -> data files missing or outside its folder
    runs: list[dict[str, Any]]  # `afluente --json runs` right after the kill
    cluster: dict[str, Any]  # the master's status once it freed the run's executors


def _committed_tables(root: Path) -> list[tuple[str, str]]:
    """The tables under `root`'s warehouse with at least one Delta commit."""
    return sorted((table.parent.name, table.name)
                  for table in (root / "warehouse").glob("[!_]*/*")  # not `_staging`
                  if any((table / "_delta_log").glob("*.json")))


def _kill_once_a_model_committed(root: Path, process: subprocess.Popen[bytes], log: Path,
                                 quarantined: set[tuple[str, str]]) -> None:
    """SIGKILL the run's process group as soon as a silver or gold table has a commit (the
    first model ran on the cluster: the run is inside its Spark application). Not a table
    in `quarantined` (one with a quarantine table), and never while such a table has
    committed but its quarantine not yet: a kill between the two commits leaves that
    build's rejects missing until a later rebuild (documented in runtime/quarantine.py),
    so the next runs could not equal DuckDB's. Other models run in parallel, so that is
    checked on every poll, right before the kill."""
    deadline = time.monotonic() + KILL_WITHIN_S
    while not _time_to_kill(_committed_tables(root), quarantined):
        if process.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail(f"the run to kill ended or stalled before a model committed "
                        f"(exit {process.poll()}):\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and the JVM it started
    process.wait()


def _time_to_kill(committed: list[tuple[str, str]], quarantined: set[tuple[str, str]]) -> bool:
    done = set(committed)
    model_committed = any(layer != "bronze" and (layer, name) not in quarantined
                          for layer, name in committed)
    quarantines_caught_up = all((layer, name + QUARANTINE) in done
                                for layer, name in committed if (layer, name) in quarantined)
    return model_committed and quarantines_caught_up


def _wait_until_freed(ui: str) -> dict[str, Any]:
    """The master's status once no application is active and no worker's core is in use:
    the killed driver's executors were stopped."""
    deadline = time.monotonic() + REGISTER_WITHIN_S
    while True:
        status = _master_status(ui)
        workers = [w for w in status.get("workers", []) if w.get("state") == "ALIVE"]
        if (status and not status["activeapps"] and len(workers) == WORKERS
                and all(w["coresused"] == 0 for w in workers)):
            return status
        if time.monotonic() > deadline:
            pytest.fail(f"the killed run's executors were not freed in "
                        f"{REGISTER_WITHIN_S}s: {status}")
        time.sleep(0.2)


def _table_at_kill(root: Path, layer: str, name: str) -> tuple[str, list[str]]:
    """The table's content hash at its latest version (or why delta-rs cannot read it) and
    the data files that version reads from outside the table's folder."""
    folder = Path(table_path(root, layer, name)).resolve()
    try:
        files = DeltaTable(str(folder)).file_uris()
        digest = content_hash(root, layer, name, exclude=RUN_TIME_COLUMNS)
    except Exception as exc:  # whatever delta-rs raised: the test reports it
        return f"unreadable: {exc}", []
    paths = [Path(uri.removeprefix("file://")).resolve() for uri in files]
    return digest, [str(p) for p in paths if folder not in p.parents or not p.exists()]


@pytest.fixture(scope="module")
def killed_on_cluster(
    spark_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory, duckdb_demo: DemoTwin
) -> KilledRun:
    """The demo's first run on the cluster, killed with SIGKILL after its first model
    committed; what it left is read before the next runs (`demo_on_cluster`) in the same
    folder."""
    base = tmp_path_factory.mktemp("cluster-demo")
    root = demo_project(base / "cluster", CLUSTER_ENGINE.format(master=spark_cluster.master))
    log = base / "killed-run.log"
    earlier = {app["id"] for app in _master_status(spark_cluster.ui)["completedapps"]}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "afluente.cli", "--project", str(root), "run"],
            stdout=out, stderr=subprocess.STDOUT, env=_cli_env(), start_new_session=True)
    quarantined = {(layer, name.removesuffix(QUARANTINE))
                   for layer, name in duckdb_demo.first_run if name.endswith(QUARANTINE)}
    _kill_once_a_model_committed(root, process, log, quarantined)
    cluster = _wait_until_freed(spark_cluster.ui)
    at_kill = {f"{layer}.{name}": _table_at_kill(root, layer, name)
               for layer, name in _committed_tables(root)}
    listed = run_cli(root, "--json", "runs")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    runs = json.loads(listed.stdout)
    apps = [app["id"] for app in cluster["completedapps"] if app["id"] not in earlier]
    assert len(runs) == 1 and len(apps) == 1, (runs, apps)
    return KilledRun(
        root=root, returncode=process.returncode, run_id=runs[0]["run_id"], app_id=apps[0],
        tables={table: digest for table, (digest, _) in at_kill.items()},
        stray_files={table: files for table, (_, files) in at_kill.items() if files},
        runs=runs, cluster=cluster,
    )


@pytest.fixture(scope="module")
def demo_on_cluster(killed_on_cluster: KilledRun, duckdb_demo: DemoTwin) -> dict[str, Any]:
    """In the folder the killed run left: the demo's first whole run through the CLI on the
    cluster (its content compared with DuckDB's first run before anything else happens),
    then a second over a second batch of landing files."""
    root = killed_on_cluster.root
    first = run_cli(root, "run")
    first_differs = differing_from(duckdb_demo.first_run, root)
    land_second_batch(root)
    second = run_cli(root, "run")
    return {"root": root, "runs": [first, second], "first_differs": first_differs}


def _succeeded(process: subprocess.CompletedProcess[str]) -> None:
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]


def test_a_killed_run_leaves_every_table_whole(
    killed_on_cluster: KilledRun, duckdb_demo: DemoTwin
) -> None:
    killed = killed_on_cluster
    assert killed.returncode == -signal.SIGKILL

    # each table the run committed holds its whole result (what DuckDB writes); the others
    # hold nothing (the first run of the project: no table had a version before)
    assert any(table.startswith(("silver.", "gold.")) for table in killed.tables)
    expected = {table: duckdb_demo.first_run.get(tuple(table.split(".")), "not on DuckDB")
                for table in killed.tables}
    assert killed.tables == expected
    assert killed.stray_files == {}  # no staged file is read as table data


def test_afluente_runs_shows_the_killed_run_as_failed(killed_on_cluster: KilledRun) -> None:
    (run,) = killed_on_cluster.runs

    assert run["status"] == "failed"
    assert "died without finishing" in run["error"]
    assert run["finished_at"] is not None


def test_the_killed_driver_leaves_the_cluster_free(
    spark_cluster: Cluster, killed_on_cluster: KilledRun
) -> None:
    status = killed_on_cluster.cluster

    assert status["activeapps"] == []
    assert [w["coresused"] for w in status["workers"] if w["state"] == "ALIVE"] == [0] * WORKERS
    for n in range(WORKERS):  # the killed application had an executor on each worker
        assert (spark_cluster.work / f"worker{n}" / killed_on_cluster.app_id).is_dir()


def test_the_next_run_removes_what_the_killed_run_staged(
    demo_on_cluster: dict[str, Any], killed_on_cluster: KilledRun
) -> None:
    _succeeded(demo_on_cluster["runs"][0])

    assert not (demo_on_cluster["root"] / "warehouse" / STAGING / killed_on_cluster.run_id
                ).exists()


def test_the_cluster_builds_the_demo_as_duckdb_does(
    demo_on_cluster: dict[str, Any], duckdb_demo: DemoTwin
) -> None:
    first, second = demo_on_cluster["runs"]
    _succeeded(first)
    _succeeded(second)

    assert demo_on_cluster["first_differs"] == []
    assert differing(duckdb_demo.root, demo_on_cluster["root"]) == []
    assert len(demo_tables(demo_on_cluster["root"])) == 21
    assert merged(demo_on_cluster["root"], "silver", "orders")  # the second run upserted


def test_the_cluster_ran_executors_on_both_workers(
    spark_cluster: Cluster, demo_on_cluster: dict[str, Any], killed_on_cluster: KilledRun
) -> None:
    with urllib.request.urlopen(f"{spark_cluster.ui}/json/", timeout=5) as response:
        status = json.load(response)

    finished = [app["id"] for app in status["completedapps"]
                if app["name"] == "afluente" and app["id"] != killed_on_cluster.app_id]
    assert len(finished) == 2, status["completedapps"]  # the demo's two runs
    for app_id, n in itertools.product(finished, range(WORKERS)):
        # each worker launched an executor JVM for each run
        assert list((spark_cluster.work / f"worker{n}" / app_id).iterdir())
    assert _alive_workers(spark_cluster.ui) == WORKERS
