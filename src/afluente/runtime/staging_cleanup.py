"""Remove the staged Parquet files that runs which died left in `<warehouse>/_staging/`.

Every run stages under `_staging/<run id>/` and removes that folder when it ends; a run
killed mid-write cannot. The next run removes every folder whose run is not alive (the
dead-run detection of :mod:`afluente.state.locks`: same host and pid gone, or no heartbeat).

The folders are listed *before* the live runs are read: a run records itself `running`
before it stages anything, so a folder seen in the listing belongs to a run that the
read that follows still finds running, and a live concurrent run never loses its files.
"""

from __future__ import annotations

import logging
from pathlib import Path

from afluente.state import Event, StateStore
from afluente.state.locks import live_runs
from afluente.storage import Warehouse
from afluente.storage.staged import STAGING, remove_staging, staging_owners

log = logging.getLogger("afluente.run")


def remove_orphaned_staging(state: StateStore, warehouse: Warehouse, run_id: str) -> None:
    """Delete the staging folders no live run owns; log and record what was removed."""
    if not warehouse.is_local:
        return
    found = staging_owners(warehouse.root)
    if not found:
        return
    alive = live_runs(state) | {run_id}
    orphans = {owner: path for owner, path in found.items() if owner not in alive}
    if not orphans:
        return
    files, size = remove_staging(list(orphans.values()))
    log.warning("removed %d staged files (%d bytes) left by runs that died: %s", files, size,
                ", ".join(sorted(orphans)), extra={"run_id": run_id})
    state.emit(Event(type="staging_cleaned", run_id=run_id, level="warning",
                     payload={"runs": sorted(orphans), "files": files, "bytes": size}))


def remove_own_staging(warehouse: Warehouse, run_id: str) -> None:
    """The run's own staging folder, once it ends (its writes removed their files)."""
    if warehouse.is_local:
        remove_staging([Path(warehouse.root) / STAGING / run_id])
