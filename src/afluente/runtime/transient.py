"""Which failures are worth another attempt, and how long to wait before it.

Transient: network errors, a Delta commit conflict, a source's 429/503, a lock or
connection hiccup of the state store. Terminal: bad SQL, a failed `fail` expectation, a
contract mismatch, bad config; retrying those only delays the same error.
"""

from __future__ import annotations

import random
from datetime import timedelta

from afluente.errors import AfluenteError, EngineError
from afluente.model import Node

#: Exceptions from outside afluente that mean "try again": the network, a commit race.
_TRANSIENT_NAMES = frozenset({
    "CommitFailedError",  # deltalake: another writer committed first
    "TransportError", "TimeoutException", "ConnectError", "ReadTimeout",  # httpx
    "OperationalError",  # database drivers: connection dropped, server restarting
    "HTTPException",  # duckdb: a remote read failed
})


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, AfluenteError):
        if exc.transient:
            return True
        cause = exc.__cause__
        return cause is not None and not isinstance(cause, AfluenteError) and is_transient(cause)
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return any(kind.__name__ in _TRANSIENT_NAMES for kind in type(exc).__mro__)


def as_afluente_error(exc: Exception, node: Node) -> AfluenteError:
    """`exc` as an afluente error that keeps its transient mark and names the model's file
    (an error raised below the runtime, such as a kind's duplicate key, may not)."""
    if isinstance(exc, AfluenteError):
        if exc.location is None:
            exc.location = node.location
            exc.table = exc.table or node.name
            exc.args = (exc.render(),)
        return exc
    error = EngineError(
        f"unexpected {type(exc).__name__}: {exc}", location=node.location, table=node.name
    )
    error.transient = is_transient(exc)
    error.__cause__ = exc
    return error


def backoff_delay(
    attempt: int, first: timedelta, cap: timedelta, rng: random.Random | None = None
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): exponential from
    `first`, capped, with full jitter in its upper half so retrying runs do not stampede."""
    ceiling = min(cap.total_seconds(), first.total_seconds() * 2 ** (attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)
