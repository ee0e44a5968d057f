"""The metadata store: runs, model runs and the event log (SQLite or PostgreSQL).

``StateStore.open(url)`` connects and migrates the store to the newest schema;
``default_url(project_dir)`` is the SQLite file every project gets unless configured.
Names load on first use, so a read that needs no SQLAlchemy (`state.sqlite_read`, behind
`afluente runs`) does not import it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from afluente.state.connect import default_url, mask_url
    from afluente.state.records import (
        Event,
        EventLevel,
        ModelRunRecord,
        ModelStatus,
        RunRecord,
        RunStatus,
    )
    from afluente.state.store import StateStore, StateTable

_EXPORTS = {
    "Event": "afluente.state.records",
    "EventLevel": "afluente.state.records",
    "ModelRunRecord": "afluente.state.records",
    "ModelStatus": "afluente.state.records",
    "RunRecord": "afluente.state.records",
    "RunStatus": "afluente.state.records",
    "StateStore": "afluente.state.store",
    "StateTable": "afluente.state.store",
    "default_url": "afluente.state.connect",
    "mask_url": "afluente.state.connect",
}

__all__ = [
    "Event",
    "EventLevel",
    "ModelRunRecord",
    "ModelStatus",
    "RunRecord",
    "RunStatus",
    "StateStore",
    "StateTable",
    "default_url",
    "mask_url",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'afluente.state' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
