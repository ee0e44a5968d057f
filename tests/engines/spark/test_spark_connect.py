"""The demo through Spark Connect (`connect_url: sc://...`): a real Connect server started
from pyspark's own scripts, the same tables as DuckDB writes. The small project's models
run on local Spark (test_spark_project.py); Connect's own paths (sessions on the server,
frames kept alive under views) are all on the demo's run.

The Spark run is an `afluente run` process of its own: once pyspark has made a Connect
session its functions build Connect plans in that whole process, so Connect and this test
session's local Spark cannot share one."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import require_component
from tests.engines.spark.conftest import DemoTwin
from tests.engines.spark.content import (
    demo_project,
    differing,
    differing_from,
    land_second_batch,
    merged,
)

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Spark Connect server on a free local port (`sbin/start-connect-server.sh`)."""
    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        require_component("pyspark and Java", "pip install 'afluente[spark]' and Java 17")
    import pyspark

    home = Path(pyspark.__file__).parent
    logs = tmp_path_factory.mktemp("connect")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(logs),
           "SPARK_PID_DIR": str(logs), "SPARK_IDENT_STRING": "afluente-test"}
    port = free_port()
    subprocess.run(
        ["bash", str(home / "sbin" / "start-connect-server.sh"), "--master", "local[2]",
         "--conf", f"spark.connect.grpc.binding.port={port}",
         # as the tests' local Spark and cluster: the demo's tables are tiny
         "--conf", "spark.sql.shuffle.partitions=2",
         "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
         "--conf", "spark.ui.enabled=false"],
        env=env, check=True, capture_output=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not listening(port):
            if time.monotonic() > deadline:
                logged = "".join(p.read_text() for p in logs.glob("*.out"))
                pytest.fail(f"the Spark Connect server did not start:\n{logged[-3000:]}")
            time.sleep(1)
        yield f"sc://127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(home / "sbin" / "stop-connect-server.sh")], env=env,
                       check=False, capture_output=True)


def _run(root: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "afluente.cli", "-p", str(root), "run"],
                           capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]


def test_spark_connect_builds_the_demo_as_duckdb_does(
    connect_url: str, tmp_path: Path, duckdb_demo: DemoTwin
) -> None:
    """`afluente demo`'s project over Spark Connect (Python models, apply_changes, merge,
    quarantine), a first run and a second over new landing files: content as on DuckDB
    after each (the session's `duckdb_demo`)."""
    on_connect = demo_project(tmp_path / "connect",
                              f"engine: {{type: spark, connect_url: '{connect_url}'}}")

    _run(on_connect)
    assert differing_from(duckdb_demo.first_run, on_connect) == [], "after run 1"
    land_second_batch(on_connect)
    _run(on_connect)

    assert differing(duckdb_demo.root, on_connect) == [], "after run 2"
    assert merged(on_connect, "silver", "orders")  # the second run upserted
