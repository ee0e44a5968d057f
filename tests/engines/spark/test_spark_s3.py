"""S3 as the warehouse on Spark, without the hadoop-aws jars: the executors read each Delta
version's files through the Arrow filesystem storage opened it with (a Python data
source), and delta-rs commits the results. A real S3 endpoint (`moto_server`, a process of
its own on 127.0.0.1) holds both warehouses; the project built on Spark has the same
content as on DuckDB."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from tests.conftest import require_component
from tests.engines.spark.content import table_hash
from tests.engines.spark.test_spark_project import SPARK, TABLES, make_project

from afluente.config import load_project
from afluente.runtime.runner import run_project

BUCKET = "lake"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """`moto_server` in a process of its own (in this process, delta-rs calls that hold the
    GIL would wait for a server thread that needs it), and the AWS_* environment delta-rs
    reads the endpoint and keys from."""
    server = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if not Path(server).exists():
        require_component("moto_server", "pip install 'moto[server]'")
    port = _free_port()
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    monkeypatch = pytest.MonkeyPatch()
    try:
        _wait_listening(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        for key, value in {
            "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true", "AWS_CONDITIONAL_PUT": "etag",
        }.items():
            monkeypatch.setenv(key, value)
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        monkeypatch.undo()
        process.terminate()
        process.wait(timeout=30)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"moto_server did not listen on 127.0.0.1:{port}")


def on_s3(root: Path, warehouse: str) -> Path:
    config = root / "afluente.yml"
    text = config.read_text()
    config.write_text(text.replace("warehouse: warehouse", f"warehouse: {warehouse}", 1))
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, spark_started: Any,
          s3_endpoint: str) -> dict[str, str]:
    base = tmp_path_factory.mktemp("s3projects")
    warehouses = {"duckdb": f"s3://{BUCKET}/duck", "spark": f"s3://{BUCKET}/spark"}
    for engine, warehouse in warehouses.items():
        setting = "engine: duckdb" if engine == "duckdb" else SPARK
        root = on_s3(make_project(base / engine, setting), warehouse)
        result = run_project(load_project(root))
        assert result.status == "success", result.error
        assert not (root / "warehouse").exists()  # nothing written locally
    return warehouses


@pytest.mark.parametrize(("layer", "name"), TABLES)
def test_spark_on_s3_writes_the_same_tables_as_duckdb(
    built: dict[str, str], layer: str, name: str
) -> None:
    on_duckdb, on_spark = (DeltaTable(f"{built[e]}/{layer}/{name}").to_pyarrow_table()
                           for e in ("duckdb", "spark"))

    assert on_spark.num_rows > 0
    assert table_hash(on_spark) == table_hash(on_duckdb)

