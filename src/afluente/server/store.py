"""One state store connection pool for the server's lifetime: runs, events, tokens,
incidents and schedule states through the same engine the CLI's stores use."""

from __future__ import annotations

from afluente.state.access_state import AccessStore
from afluente.state.observability import ObservabilityStore
from afluente.state.schedule_state import ScheduleStateStore


class ServerStore(AccessStore, ObservabilityStore, ScheduleStateStore):
    """Every reading and writing method of the state store's parts."""

    @classmethod
    def open(cls, url: str) -> ServerStore:
        store = super().open(url)
        assert isinstance(store, ServerStore)
        return store

    def __enter__(self) -> ServerStore:
        return self
