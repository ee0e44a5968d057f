"""`afluente serve`'s application run by a real uvicorn on 127.0.0.1 (a free port) in a
thread of the test process: the API and UI tests' server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.conftest import _free_port


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """The project at `root` served until the block ends; yields its base URL."""
    import uvicorn

    from afluente.server.app import create_app
    from afluente.server.context import ServerContext

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ServerContext.open(root)),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # uvicorn sets it once the socket listens
        if not thread.is_alive():
            pytest.fail("uvicorn did not start")
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
