"""What the server keeps between requests: a value that costs seconds (the models, every
table's freshness) is renewed in the background once stale, and answered stale meanwhile;
a renewal that fails is not hidden: the next request computes it and meets the error."""

from __future__ import annotations

import threading

import pytest
from tests.server.conftest import Served

from afluente.server.context import ServerContext


def _join_renewals() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("afluente-renew-"):
            thread.join(timeout=120)


def test_a_stale_value_is_answered_while_one_thread_renews_it(served: Served) -> None:
    context = ServerContext.open(served.root)
    try:
        context.ttl_s = 0.0  # every kept value is stale at once
        release = threading.Event()
        calls: list[int] = []

        def slow() -> int:
            calls.append(len(calls) + 1)
            release.wait(120)
            return len(calls)

        release.set()
        assert context.kept_refreshing("k", slow) == 1  # the first call computes and waits
        release.clear()
        answers = [context.kept_refreshing("k", slow) for _ in range(3)]
        assert answers == [1, 1, 1] and calls == [1, 2]  # one renewal for three requests
        release.set()
        _join_renewals()
        assert context.kept_refreshing("k", slow) == 2  # and renews again (to 3)
        _join_renewals()

        def failing() -> int:
            raise RuntimeError("a table's log could not be read")

        assert context.kept_refreshing("k", failing) == 3
        _join_renewals()
        with pytest.raises(RuntimeError, match="could not be read"):  # not hidden behind
            context.kept_refreshing("k", failing)                     # the old value
        _join_renewals()
    finally:
        context.close()
