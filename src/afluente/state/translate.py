"""Turn SQLAlchemy and driver failures into :class:`~afluente.errors.StateError`.

Messages name the store by its masked URL (never the password) and say what to do next.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from afluente.errors import StateError

_POSTGRES_HINT = (
    "install the PostgreSQL driver with pip install 'afluente[postgres]' and use a "
    "postgresql+psycopg://user@host/db URL"
)


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def _hint(error: BaseException, masked_url: str) -> str:
    if isinstance(error, ModuleNotFoundError):
        if (error.name or "").startswith("psycopg"):
            return _POSTGRES_HINT
        return f"install the Python package that provides {error.name!r} for this URL's driver"
    reason = _reason(error).lower()
    if "locked" in reason or "busy" in reason:
        return "another process holds the store's write lock; retry when it finishes"
    if "not a database" in reason or "malformed" in reason:
        return (
            "the SQLite file is damaged: restore it from a backup, or salvage what is left "
            "with `sqlite3 state.db .recover | sqlite3 recovered.db` and put recovered.db in "
            "its place. The tables themselves are intact: `afluente show`, `history` and "
            "`query` still read them"
        )
    if isinstance(error, sa_exc.OperationalError):
        return (
            f"check that the database behind {masked_url} is reachable and that the "
            "state URL in afluente.yml is right"
        )
    if isinstance(error, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return (
            "use sqlite:///path/to/state.db or postgresql+psycopg://user@host/db "
            "as the state URL in afluente.yml"
        )
    return "check the store is an afluente state store; `afluente --debug` shows the trace"


def state_error(
    error: BaseException, masked_url: str, action: str, secret: str | None = None
) -> StateError:
    """A :class:`StateError` for `error`, raised while trying to `action`.

    `secret` (the URL's password) is masked should a driver ever echo it.
    """
    reason = _reason(error)
    if secret:
        reason = reason.replace(secret, "***")
    translated = StateError(
        f"state store {masked_url}: could not {action}: {reason}",
        hint=_hint(error, masked_url),
    )
    # Lost connections and lock timeouts are worth a retry; bad URLs and schemas are not.
    translated.transient = isinstance(error, sa_exc.OperationalError)
    return translated


@contextmanager
def translated(masked_url: str, action: str, secret: str | None = None) -> Iterator[None]:
    """Re-raise database failures inside the block as :class:`StateError`."""
    try:
        yield
    except StateError:
        raise
    except (sa_exc.SQLAlchemyError, ModuleNotFoundError) as error:
        raise state_error(error, masked_url, action, secret) from error
