"""Avro through a schema registry: a real HTTP server on 127.0.0.1 that answers the
registry's `GET /schemas/ids/{id}` (behind basic auth), a real broker, schema evolution by
id mid-stream, unknown ids rescued, an unreachable registry named."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import KafkaBroker
from .helpers import failure, make_project, ok, run, table, version

V1 = {"type": "record", "name": "Order", "fields": [
    {"name": "id", "type": "int"}, {"name": "state", "type": "string"}]}
V2 = {**V1, "fields": [*V1["fields"],  # a new optional field: a compatible evolution
                       {"name": "channel", "type": ["null", "string"], "default": None}]}
CREDENTIALS = "ingest:s3cret"


@dataclass
class Registry:
    """The schemas it holds by id, and the paths it was asked for."""

    url: str
    schemas: dict[int, dict[str, Any]]
    asked: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    held = Registry("", {1: V1, 2: V2})
    expected = "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            held.asked[self.path] = held.asked[self.path] + 1
            if self.headers.get("Authorization") != expected:
                return self._answer(401, {"error_code": 401, "message": "Unauthorized"})
            prefix = "/schemas/ids/"
            found = (held.schemas.get(int(self.path[len(prefix):]))
                     if self.path.startswith(prefix) else None)
            if found is None:
                return self._answer(404, {"error_code": 40403, "message": "Schema not found"})
            return self._answer(200, {"schema": json.dumps(found)})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    held.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield held
    finally:
        server.shutdown()
        server.server_close()


def _framed(schema_id: int, schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    import fastavro

    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), record)
    return b"\x00" + schema_id.to_bytes(4, "big") + out.getvalue()


def _source(topic: str, url: str, extra: str = "") -> str:
    user, password = CREDENTIALS.split(":")
    return (f"topics: [{topic}]\nformat: avro\nschema_registry:\n  url: {url}\n"
            f"  auth: {{username: {user}, password: {password}}}\n  timeout: 2\n" + extra)


def test_a_new_writer_schema_mid_stream_adds_its_field_and_unknown_ids_are_rescued(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str, registry: Registry
) -> None:
    kafka_broker.produce(topic, [("a", _framed(1, V1, {"id": 1, "state": "SP"})),
                                 ("b", _framed(1, V1, {"id": 2, "state": "RJ"}))])
    root = make_project(tmp_path / "p", kafka_broker.bootstrap, _source(topic, registry.url))
    ok(run(root))
    assert "channel" not in table(root).column_names
    kafka_broker.produce(topic, [
        ("c", _framed(2, V2, {"id": 3, "state": "MG", "channel": "app"})),  # evolved
        ("d", _framed(1, V1, {"id": 4, "state": "BA"})),  # an old producer still writing
        ("e", _framed(99, V1, {"id": 5, "state": "PR"})),  # an id the registry lacks
    ])
    ok(run(root))
    rows = {r["_kafka_key"]: r for r in table(root).to_pylist()}
    assert {k: (r["id"], r["state"], r["channel"]) for k, r in rows.items()} == {
        "a": (1, "SP", None), "b": (2, "RJ", None), "c": (3, "MG", "app"),
        "d": (4, "BA", None), "e": (None, None, None)}
    rescued = json.loads(rows["e"]["_rescued_data"])
    assert rescued["_error"] == (
        f"schema id 99 is not in the schema registry at {registry.url}")
    assert isinstance(rows["e"]["_kafka_partition"], int)  # where it is on the broker
    assert isinstance(rows["e"]["_kafka_offset"], int)
    # each id fetched once per micro-batch's source (1 in both, 2 and 99 in the second)
    assert registry.asked["/schemas/ids/1"] == 2
    assert registry.asked["/schemas/ids/2"] == 1


def test_a_declared_schema_is_the_reader_each_writer_resolves_to(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str, registry: Registry
) -> None:
    kafka_broker.produce(topic, [
        ("a", _framed(1, V1, {"id": 1, "state": "SP"})),
        ("b", _framed(2, V2, {"id": 2, "state": "RJ", "channel": "web"}))])
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        _source(topic, registry.url, "avro_schema: order.avsc\n"))
    (root / "order.avsc").write_text(json.dumps(V1))
    ok(run(root))
    data = table(root)
    assert "channel" not in data.column_names  # the reader schema has no such field
    assert sorted(zip(data.column("id").to_pylist(), data.column("state").to_pylist(),
                      strict=True)) == [(1, "SP"), (2, "RJ")]


def test_an_unreachable_registry_is_named_and_bronze_is_unchanged(
    tmp_path: Path, kafka_broker: KafkaBroker, topic: str, registry: Registry
) -> None:
    kafka_broker.produce(topic, [("a", _framed(1, V1, {"id": 1, "state": "SP"}))])
    root = make_project(tmp_path / "p", kafka_broker.bootstrap,
                        _source(topic, "http://127.0.0.1:1"))
    message = failure(run(root, retries=0))
    assert "cannot reach the schema registry at http://127.0.0.1:1 (ConnectError" in message
    assert version(root) is None
    wrong = make_project(tmp_path / "q", kafka_broker.bootstrap,
                         _source(topic, registry.url).replace("s3cret", "wrong"))
    assert (f"the schema registry at {registry.url} refused the credentials (HTTP 401 for "
            "/schemas/ids/1)") in failure(run(wrong, retries=0))
    assert version(wrong) is None
