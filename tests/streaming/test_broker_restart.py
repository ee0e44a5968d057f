"""A broker restart mid-stream: tansu storing to S3 (a real S3 endpoint, `moto_server`, on
127.0.0.1) is killed while a producer writes, the stream's next micro-batch fails naming the
broker, tansu restarts on the same storage and port, and the next stream drains the topic:
every message is in bronze exactly once."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.errors import RunError
from afluente.runtime.stream import parse_trigger, stream_project
from conftest import _free_port, require_component

from .conftest import KafkaBroker, _tansu, _wait_until_up
from .helpers import make_project, table, version


@dataclass
class RestartableBroker:
    """tansu on S3 storage at a fixed port, which can be killed and started again."""

    binary: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        url = f"tcp://{self.bootstrap}"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", "s3://tansu/"],
                stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        _wait_until_up(self.bootstrap, self.process, self.log)

    def kill(self) -> None:
        """SIGKILL its process group: no clean shutdown."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def _moto(port: int) -> subprocess.Popen[bytes]:
    server = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if not Path(server).exists():
        require_component("moto_server", "pip install 'moto[server]'")
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.1)  # the listener has no event to wait on
    process.kill()
    pytest.fail(f"moto_server did not listen on 127.0.0.1:{port}")


@pytest.fixture
def broker_on_s3() -> Iterator[RestartableBroker]:
    binary = _tansu()
    moto_port = _free_port()
    moto = _moto(moto_port)
    endpoint = f"http://127.0.0.1:{moto_port}"
    env = {**os.environ, "AWS_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true", "RUST_LOG": "warn"}
    import boto3

    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                 aws_secret_access_key="testing", region_name="us-east-1",
                 ).create_bucket(Bucket="tansu")
    log = Path(tempfile.mkdtemp(prefix="afluente-tansu-s3-")) / "tansu.log"
    broker = RestartableBroker(binary, _free_port(), env, log)
    try:
        broker.start()
        yield broker
    finally:
        if broker.process is not None and broker.process.poll() is None:
            broker.kill()
        os.killpg(moto.pid, signal.SIGKILL)
        moto.wait()


def _drain_until(root: Path, count: int) -> None:
    """Available-now streams until bronze holds `count` rows, at most 10: under heavy load
    a micro-batch whose broker has not answered a fetch within `connect_timeout` (2 s
    here, so that the dead broker is reported fast) ends with nothing, and the stream
    stops as drained; the next one reads the messages."""
    for _ in range(10):
        stream_project(load_project(root), parse_trigger("available-now"))
        if version(root) is not None and table(root).num_rows >= count:
            return
    pytest.fail(f"bronze does not hold {count} messages after 10 streams")


def test_a_broker_killed_mid_stream_and_restarted_loses_and_doubles_nothing(
    tmp_path: Path, broker_on_s3: RestartableBroker
) -> None:
    client = KafkaBroker(broker_on_s3.bootstrap)
    client.create_topic("orders", partitions=2)
    client.produce("orders", [(str(i), {"id": i}) for i in range(50)])
    root = make_project(tmp_path / "p", broker_on_s3.bootstrap,
                        "topics: [orders]\nconnect_timeout: 2")
    with (root / "afluente.yml").open("a", encoding="utf-8") as config:
        config.write("run:\n  retries: 0\n")
    _drain_until(root, 50)

    # a producer keeps writing while the broker dies; its idempotent retries deliver the
    # messages it still holds once the broker is back
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": client.bootstrap, "enable.idempotence": True,
                         "linger.ms": 5, "log_level": 0})  # its refused connects are expected
    delivered: list[int] = []
    half_sent = threading.Event()

    def produce() -> None:
        for i in range(50, 150):
            producer.produce("orders", key=str(i), value=f'{{"id": {i}}}'.encode(),
                             on_delivery=lambda err, msg: delivered.append(0 if err else 1))
            producer.poll(0)
            if i == 100:
                half_sent.set()
        producer.flush(120)

    writer = threading.Thread(target=produce)
    writer.start()
    assert half_sent.wait(30)
    broker_on_s3.kill()
    before = version(root)
    with pytest.raises(RunError) as failed:
        stream_project(load_project(root), parse_trigger("available-now"))
    assert (f"cannot reach the Kafka broker at {broker_on_s3.bootstrap} within 2 s"
            in str(failed.value))
    assert version(root) == before  # bronze unchanged by the failed micro-batch

    broker_on_s3.start()  # the same storage and port
    writer.join(150)
    assert not writer.is_alive() and delivered.count(1) == 100
    _drain_until(root, 150)
    rows = table(root).to_pylist()
    assert sorted(r["id"] for r in rows) == list(range(150))  # each exactly once
    assert len({(r["_kafka_partition"], r["_kafka_offset"]) for r in rows}) == 150
