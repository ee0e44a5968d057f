"""A real HTTP server on 127.0.0.1 (a free port), whose answers each test scripts.

`api.reply` is called with each request seen (path, query, headers) and returns a `Reply`;
every request is recorded with the server's clock, so tests can assert what the connector
asked for and when, without mocking it.
"""

from __future__ import annotations

import json
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyarrow as pa
import pytest

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse

REF = TableRef("bronze", "orders")


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class Reply:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str) and self.content_type != "application/json":
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Api:
    url: str
    reply: Callable[[Seen], Reply] = lambda seen: Reply([])
    seen: list[Seen] = field(default_factory=list)

    def queries(self, key: str) -> list[str | None]:
        return [s.query.get(key) for s in self.seen]


def _handler(api: Api) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            seen = Seen(parts.path, dict(parse_qsl(parts.query)),
                        {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
            api.seen.append(seen)
            reply = api.reply(seen)
            payload = reply.payload()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@pytest.fixture
def api() -> Iterator[Api]:
    api = Api(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def make_project(root: Path, api: Api, source: str) -> Path:
    """A project with one REST source `orders` on the test server."""
    root.mkdir(parents=True, exist_ok=True)
    head = f"name: restp\nsources:\n  orders:\n    type: rest\n    url: {api.url}\n"
    body = textwrap.indent(textwrap.dedent(source).strip() + "\n", "    ")
    (root / "afluente.yml").write_text(head + body, encoding="utf-8")
    return root


def run(root: Path, **kwargs: Any) -> Any:
    return run_project(load_project(root), **kwargs)


def bronze(root: Path) -> pa.Table:
    return Warehouse(load_project(root).warehouse_uri).dataset(REF).to_table()


def version(root: Path) -> int | None:
    return Warehouse(load_project(root).warehouse_uri).version(REF)


def column(root: Path, name: str, order_by: str = "id") -> list[Any]:
    table = bronze(root).sort_by(order_by)
    return table.column(name).to_pylist()


def failure(result: Any) -> str:
    assert result.status == "failed"
    (failed,) = result.failed
    return str(failed.reason)


def ok(result: Any) -> Any:
    """Assert the run succeeded, showing the failure otherwise."""
    assert result.status == "success", [m.reason for m in result.failed]
    return result
