"""Serving under a base path behind a reverse proxy (`--base-path /afluente`), whether the
proxy strips the prefix before passing a request on or not: the ASGI root path is set to the
prefix and the path carries it, so routing, links and /openapi.json's `servers` agree."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class BasePath:
    def __init__(self, app: ASGIApp, base: str) -> None:
        self.app = app
        self.base = base.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.base and scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if path != self.base and not path.startswith(self.base + "/"):
                path = self.base + path  # the proxy stripped it
            scope = {**scope, "root_path": self.base, "path": path,
                     "raw_path": path.encode("utf-8")}
        await self.app(scope, receive, send)
