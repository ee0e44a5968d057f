"""The login page (a token opens a browser session, as POST /api/session does) and
signing out. A login form from another origin is refused."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from afluente.server.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    Unauthorized,
    own_origin,
)
from afluente.server.context import ServerContext, server_context
from afluente.server.ui.pages import base_of, render, session_of

router = APIRouter(prefix="/ui", include_in_schema=False)


def _safe_next(request: Request, wanted: str | None) -> str:
    """Where to go after signing in: a path of this app only (never another site)."""
    base = base_of(request)
    if wanted and wanted.startswith(f"{base}/ui") and not wanted.startswith("//"):
        return wanted
    return f"{base}/ui/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(request, next), "failed": False})


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, context: ServerContext = Depends(server_context)
                ) -> Response:
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin(request):
        raise CsrfRefused(f"a sign-in from origin {origin} is refused",
                          hint="sign in on this server's own login page")
    form = await _form(request)
    wanted = _safe_next(request, form.get("next"))
    try:
        caller = context.auth.verify(form.get("token", "").strip())
    except Unauthorized:
        return render(request, "login.html", {"next": wanted, "failed": True}, 401)
    session_id, session = context.auth.open_session(caller)
    answer = RedirectResponse(wanted, status_code=303)
    path = base_of(request) or "/"
    secure = request.url.scheme == "https"
    answer.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict",
                      path=path, secure=secure)
    answer.set_cookie(CSRF_COOKIE, session.csrf, samesite="strict", path=path, secure=secure)
    return answer


@router.post("/logout")
async def logout(request: Request, context: ServerContext = Depends(server_context)
                 ) -> Response:
    """End the session; the form carries its CSRF token. Without a session there is
    nothing to end: the login page."""
    session = session_of(request, context)
    if session is not None:
        sent = (await _form(request)).get("csrf", "")
        if not hmac.compare_digest(sent, session.csrf):
            raise CsrfRefused("signing out needs the session's CSRF token",
                              hint="use the Sign out button of a page of this server")
        context.auth.close_session(request.cookies.get(SESSION_COOKIE, ""))
    answer = RedirectResponse(f"{base_of(request)}/ui/login", status_code=303)
    path = base_of(request) or "/"
    answer.delete_cookie(SESSION_COOKIE, path=path)
    answer.delete_cookie(CSRF_COOKIE, path=path)
    return answer
