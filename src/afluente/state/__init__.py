"""The metadata store: runs, model runs and the event log (SQLite or PostgreSQL).

``StateStore.open(url)`` connects and migrates the store to the newest schema;
``default_url(project_dir)`` is the SQLite file every project gets unless configured.
"""

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
