"""The FastAPI application and `serve`, which runs it under uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

import afluente
from afluente.server import (
    routes_dashboards,
    routes_meta,
    routes_observe,
    routes_query,
    routes_runs,
    routes_tables,
)
from afluente.server.base_path import BasePath
from afluente.server.context import ServerContext
from afluente.server.json_body import JsonBody
from afluente.server.problems import install_handlers
from afluente.server.ui import install as install_ui

log = logging.getLogger("afluente.server")


def create_app(context: ServerContext, base_path: str = "") -> FastAPI:
    """The API over `context`'s project; `base_path` is the prefix a reverse proxy serves
    it under (`/afluente`)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        context.close()

    app = FastAPI(title=f"afluente: {context.project.config.name}",
                  version=getattr(afluente, "__version__", "0"),
                  default_response_class=JsonBody, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None)
    app.state.afluente = context
    install_handlers(app)
    if base_path:
        app.add_middleware(BasePath, base=base_path)
    app.include_router(routes_meta.open_routes)
    for module in (routes_meta, routes_runs, routes_tables, routes_query, routes_observe,
                   routes_dashboards):
        app.include_router(module.router)
    install_ui(app)
    return app


def serve(project_dir: Path, environment: str | None, host: str, port: int, base_path: str,
          query_rate: int) -> None:
    """Serve the project's API until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    context = ServerContext.open(project_dir, environment, query_rate)
    app = create_app(context, base_path)
    log.info("serving %s on http://%s:%s%s", context.project.config.name, host, port,
             base_path)
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="warning")
