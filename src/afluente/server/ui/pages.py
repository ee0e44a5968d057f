"""Rendering a page: the Jinja2 templates beside this module, the caller of a page (a
browser session, or a bearer token), and the context every template gets (the base path a
proxy serves under, the language and its labels, the CSRF token for the page's script).

A page asked for without a session redirects to the login page; a wrong bearer token gets
the API's one 401."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from afluente.errors import AfluenteError
from afluente.server.auth import SESSION_COOKIE, Caller, Session, Unauthorized
from afluente.server.context import ServerContext, server_context
from afluente.server.ui.labels import LANG_COOKIE, labels, language

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def trigger_text(trigger: Any) -> str:
    """A run's trigger as words (`retry_of: RUN`, `schedule: nightly`)."""
    if isinstance(trigger, dict):
        return ", ".join(f"{key}: {value}" for key, value in trigger.items())
    return "" if trigger is None else str(trigger)


templates.env.filters["trigger_text"] = trigger_text


class LoginRequired(AfluenteError):
    """A page asked for without a session: the browser goes to the login page."""


def base_of(request: Request) -> str:
    """The path prefix a reverse proxy serves the app under ('' without one)."""
    return str(request.scope.get("root_path") or "").rstrip("/")


def page_caller(request: Request, context: ServerContext = Depends(server_context)) -> Caller:
    """The caller of a page: a bearer token (401 when wrong) or the session cookie (the
    login page when there is none)."""
    try:
        return context.auth.caller_of(request)
    except Unauthorized:
        if request.headers.get("authorization") is not None:
            raise
        raise LoginRequired("a session is needed") from None


def session_of(request: Request, context: ServerContext) -> Session | None:
    return context.auth.session(request.cookies.get(SESSION_COOKIE, ""))


def to_login(request: Request, _: Exception) -> Response:
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{base_of(request)}/ui/login?next={quote(wanted)}",
                            status_code=303)


def render(request: Request, name: str, values: dict[str, Any], status_code: int = 200,
           caller: Caller | None = None) -> HTMLResponse:
    """The template `name` with `values` and what every page shows."""
    lang = language(request)
    context: ServerContext = request.app.state.afluente
    session = session_of(request, context)
    shown = {"request": request, "base": base_of(request), "lang": lang, "t": labels(lang),
             "other_lang": "en" if lang == "pt" else "pt", "caller": caller,
             "csrf": session.csrf if session else "",
             "project": context.project.config.name, **values}
    answer = templates.TemplateResponse(request, name, shown, status_code=status_code)
    if request.query_params.get("lang") in ("en", "pt"):
        answer.set_cookie(LANG_COOKIE, lang, samesite="strict", path=(base_of(request) or "/"))
    return answer
