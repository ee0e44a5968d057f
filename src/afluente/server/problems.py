"""Errors as JSON problem details (RFC 9457, `application/problem+json`) carrying the CLI's
message and hint: `detail` is what `afluente` prints after `error:`, `hint` its hint line."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from afluente.errors import (
    AfluenteError,
    DamagedTableError,
    LockTimeoutError,
    StateError,
    TableNotFoundError,
)
from afluente.governance.grants import AccessDenied

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("afluente.server")


class ApiError(AfluenteError):
    """An error the API answers with a given HTTP status (and headers)."""

    status = 400
    headers: dict[str, str] = {}


class NotFound(ApiError):
    """A table, version, run or other named thing that does not exist."""

    status = 404


class Conflict(ApiError):
    """The request clashes with the project's state (a lock another run holds)."""

    status = 409


class RateLimited(ApiError):
    """Too many queries from one token; `retry_after` seconds until the next one."""

    status = 429

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


#: The statuses of the project's other errors, most specific first.
_STATUS: tuple[tuple[type[AfluenteError], int], ...] = (
    (AccessDenied, 403),
    (TableNotFoundError, 404),
    (LockTimeoutError, 409),
    (DamagedTableError, 409),
    (StateError, 503),
)


def status_of(error: AfluenteError) -> int:
    if isinstance(error, ApiError):
        return error.status
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400  # bad input: a selector, SQL, a time, a config the request leans on


def problem(status: int, detail: str, hint: str | None = None, *,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase,
                            "status": status, "detail": detail}
    if hint:
        body["hint"] = hint
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def error_problem(error: AfluenteError) -> JSONResponse:
    headers = dict(error.headers) if isinstance(error, ApiError) else {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    location = str(error.location) if error.location else None
    return problem(status_of(error), error.message, error.hint, headers=headers or None,
                   table=error.table, run_id=error.run_id, location=location)


def install_handlers(app: FastAPI) -> None:
    """Every error leaves as a problem document, an unexpected one without its internals."""

    async def afluente_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AfluenteError)
        return error_problem(exc)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, str(exc.detail),
                       headers=dict(exc.headers) if exc.headers else None)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        said = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in exc.errors())
        return problem(422, f"invalid request: {said}", "see /openapi.json for the parameters")

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return problem(500, f"internal error ({type(exc).__name__})",
                       "the server log has the traceback; please report it")

    app.add_exception_handler(AfluenteError, afluente_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, unexpected)
