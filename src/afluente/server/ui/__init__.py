"""The web UI of `afluente serve`: server-rendered pages (Jinja2) under `/ui`, with the
small scripts they use vendored in `static/` (no front-end build step)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from afluente.errors import AfluenteError
from afluente.server.problems import error_problem, status_of
from afluente.server.ui.pages import HERE, LoginRequired, base_of, render, to_login


def routers() -> list[APIRouter]:
    """Every router of the UI's pages (the route-enumeration test walks them all: a page
    added to the UI is added here)."""
    from afluente.server.ui import (
        routes_dashboards_pages,
        routes_graph,
        routes_login,
        routes_runs_pages,
        routes_table,
    )

    return [m.router for m in (routes_graph, routes_login, routes_table, routes_runs_pages,
                               routes_dashboards_pages)]


def install(app: FastAPI) -> None:
    """Mount the pages, the static files and the page errors on `app`."""
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    for router in routers():
        app.include_router(router)
    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(AfluenteError, _page_or_problem)


async def _page_or_problem(request: Request, exc: Exception) -> Response:
    """A page's error as a page (the same message and hint as the API's problem), or in
    place of the rows for the row browser's own requests (htmx); any other request's as
    the problem document."""
    assert isinstance(exc, AfluenteError)
    on_page = request.url.path.startswith(f"{base_of(request)}/ui/")
    if not on_page or request.headers.get("authorization") is not None:
        return error_problem(exc)
    shown = "rows_problem.html" if request.headers.get("hx-request") else "error.html"
    return render(request, shown, {"error": exc, "status": status_of(exc)},
                  status_code=status_of(exc))
