"""Who is calling: a service token (`afluente token create`) sent as `Authorization: Bearer`,
or a browser session made from one (`POST /api/session`).

A request without a valid credential gets one and the same 401, whether the token is
unknown, revoked, malformed or absent, so an answer never tells whether an account exists.
A session is a random id in an HttpOnly, SameSite=Strict cookie; an unsafe method (POST,
PUT, PATCH, DELETE) on a session must also send the session's CSRF token in `X-CSRF-Token`
(double submit: the `afluente_csrf` cookie holds it for the page's script), and a request
whose `Origin` is not the server's own is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from afluente.errors import AfluenteError
from afluente.governance.identity import Identity, token_identity
from afluente.server.problems import ApiError

if TYPE_CHECKING:
    from afluente.server.store import ServerStore

SESSION_COOKIE = "afluente_session"
CSRF_COOKIE = "afluente_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The one 401 answer (with `WWW-Authenticate: Bearer`).
UNAUTHORIZED = "a valid token is required"
UNAUTHORIZED_HINT = ("send `Authorization: Bearer <token>`, or open a session with POST "
                     "/api/session; an ADMIN creates tokens with `afluente token create`")


class Unauthorized(ApiError):
    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="afluente"'}

    def __init__(self) -> None:
        super().__init__(UNAUTHORIZED, hint=UNAUTHORIZED_HINT)


class CsrfRefused(ApiError):
    status = 403


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: who, and the token that proves it (kept in memory only,
    to start a run as them)."""

    identity: Identity
    token: str

    @property
    def name(self) -> str:
        return self.identity.name


@dataclass(frozen=True)
class Session:
    caller: Caller
    csrf: str
    expires: float


@dataclass
class Authenticator:
    """Checks tokens against the state store (a verified token is trusted for `ttl_s`, so a
    revocation takes effect within it) and keeps the browser sessions."""

    store: ServerStore
    ttl_s: float = 5.0
    session_s: float = 8 * 3600.0
    _verified: dict[str, tuple[Identity, float]] = field(default_factory=dict)
    _sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, token: str) -> Caller:
        """The caller `token` stands for, or `Unauthorized`."""
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            known = self._verified.get(key)
        if known is not None and known[1] > now:
            return Caller(known[0], token)
        try:
            identity = token_identity(self.store, token, "the request's token")
        except AfluenteError:  # unknown, revoked, malformed: the one 401
            raise Unauthorized() from None
        with self._lock:
            self._verified[key] = (identity, now + self.ttl_s)
        return Caller(identity, token)

    def open_session(self, caller: Caller) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        session = Session(caller, secrets.token_urlsafe(24), time.monotonic() + self.session_s)
        with self._lock:
            self._sessions[session_id] = session
        return session_id, session

    def session(self, session_id: str) -> Session | None:
        with self._lock:
            found = self._sessions.get(session_id)
            if found is not None and found.expires <= time.monotonic():
                del self._sessions[session_id]
                return None
        return found

    def close_session(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def caller_of(self, request: Request) -> Caller:
        """The request's caller (bearer token first, then the session cookie)."""
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized()
            return self.verify(token.strip())
        session = self.session(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            raise Unauthorized()
        if request.method not in SAFE_METHODS:
            check_csrf(request, session)
        return session.caller


def check_csrf(request: Request, session: Session) -> None:
    """An unsafe request on a session carries its CSRF token and comes from this origin."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise CsrfRefused(f"{request.method} with a session cookie needs the {CSRF_HEADER} "
                          "header", hint=f"send the value of the `{CSRF_COOKIE}` cookie (or "
                          "of `csrf` from POST /api/session) in that header")
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin(request):
        raise CsrfRefused(f"a request from origin {origin} is refused",
                          hint="the API accepts session requests from its own pages only; "
                               "other clients send `Authorization: Bearer <token>`")


def own_origin(request: Request) -> str:
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    scheme = request.headers.get("x-forwarded-proto") or request.url.scheme
    return f"{scheme}://{host}"
