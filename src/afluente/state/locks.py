"""Named locks in the state store: what keeps two runs from writing one table at once.

A run takes the locks of every table it may write (`table:<layer.name>`) before it plans,
all or nothing in one transaction, so two runs never deadlock and a run never plans against
a table another run is about to change. A lock held by a live holder makes the caller wait
(polling) up to `wait`; then it fails with :class:`LockTimeoutError` naming the holder.

A holder is dead when its process is gone (same host: the pid no longer exists) or its
heartbeat is older than `STALE_AFTER` (another host; see :mod:`afluente.state.liveness`).
A dead holder's locks are taken over: the Delta tables it was writing are consistent anyway
(every write is one commit).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from afluente.errors import LockTimeoutError
from afluente.state import schema
from afluente.state.coltypes import utc_now
from afluente.state.liveness import process_alive
from afluente.state.store import StateStore

#: How often a waiting caller looks again.
POLL_S = 0.25


@dataclass(frozen=True)
class LockHolder:
    name: str
    holder: str
    host: str | None
    pid: int | None
    acquired_at: datetime
    heartbeat_at: datetime

    def describe(self) -> str:
        where = f"pid {self.pid} on {self.host}" if self.pid else "unknown process"
        return f"`{self.holder}` ({where}, since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC)"


def acquire_locks(
    store: StateStore,
    names: Sequence[str],
    holder: str,
    *,
    wait: timedelta,
    on_wait: Callable[[LockHolder], None] | None = None,
) -> None:
    """Take every lock in `names` for `holder`, or none; wait while a live holder has one."""
    wanted = sorted(set(names))
    if not wanted:
        return
    deadline = time.monotonic() + wait.total_seconds()
    told: set[str] = set()
    while True:
        blocker = _try_acquire(store, wanted, holder)
        if blocker is None:
            return
        if time.monotonic() >= deadline:
            raise LockTimeoutError(
                f"`{blocker.name}` is locked by {blocker.describe()}"
                + (f"; waited {wait.total_seconds():g}s" if wait else ""),
                hint="wait for that run to finish, or raise `run: lock_timeout:` in afluente.yml"
                " (a holder whose process died is taken over automatically)",
            )
        if on_wait is not None and blocker.holder not in told:
            told.add(blocker.holder)
            on_wait(blocker)
        time.sleep(POLL_S)


def _try_acquire(store: StateStore, names: list[str], holder: str) -> LockHolder | None:
    table = schema.locks
    now = utc_now()
    with store._write(f"lock {', '.join(names)}") as conn:
        held = {row.name: row for row in conn.execute(
            select(table).where(table.c.name.in_(names))
        )}
        for name in names:
            row = held.get(name)
            if row is None or row.run_id == holder:
                continue
            if process_alive(row.host, row.pid, row.heartbeat_at):
                return LockHolder(row.name, row.run_id, row.host, row.pid, row.acquired_at,
                                  row.heartbeat_at)
        conn.execute(delete(table).where(table.c.name.in_(names)))
        conn.execute(table.insert(), [
            {"name": name, "run_id": holder, "host": socket.gethostname(), "pid": os.getpid(),
             "acquired_at": now, "heartbeat_at": now}
            for name in names
        ])
    return None


def release_locks(store: StateStore, holder: str, names: Sequence[str] | None = None) -> None:
    """Give back `holder`'s locks (only `names`, when given)."""
    table = schema.locks
    query = delete(table).where(table.c.run_id == holder)
    if names is not None:
        query = query.where(table.c.name.in_(list(names)))
    with store._write(f"release the locks of {holder}") as conn:
        conn.execute(query)


def beat(store: StateStore, holder: str) -> None:
    """Tell other hosts `holder` is alive: refresh its locks' heartbeat (and its run's)."""
    now = utc_now()
    with store._write(f"heartbeat of {holder}") as conn:
        _beat(conn, holder, now)


def _beat(conn: Connection, holder: str, now: datetime) -> None:
    conn.execute(update(schema.locks).where(schema.locks.c.run_id == holder)
                 .values(heartbeat_at=now))
    conn.execute(update(schema.runs).where(schema.runs.c.run_id == holder)
                 .values(heartbeat_at=now))


def held_locks(store: StateStore) -> list[LockHolder]:
    """Every lock held right now (dead holders included), for `afluente runs` and tests."""
    table = schema.locks
    with store._read("list locks") as conn:
        rows = conn.execute(select(table).order_by(table.c.name)).all()
    return [LockHolder(r.name, r.run_id, r.host, r.pid, r.acquired_at, r.heartbeat_at)
            for r in rows]


def live_runs(store: StateStore) -> set[str]:
    """The ids of the runs recorded `running` whose process is alive."""
    runs = schema.runs
    with store._read("list running runs") as conn:
        rows = conn.execute(select(runs).where(runs.c.status == "running")).all()
    return {r.run_id for r in rows if process_alive(r.host, r.pid, r.heartbeat_at)}


def reap_dead_runs(store: StateStore, by: str) -> list[str]:
    """Mark every `running` run whose process is dead as failed, with its running models,
    and drop its locks. Returns the run ids reaped (`by` says who noticed: `run <id>`,
    `afluente runs`)."""
    runs, model_runs = schema.runs, schema.model_runs
    now = utc_now()
    reaped: list[str] = []
    with store._write("look for dead runs") as conn:
        for row in conn.execute(select(runs).where(runs.c.status == "running")).all():
            if process_alive(row.host, row.pid, row.heartbeat_at):
                continue
            error = (f"the run's process (pid {row.pid} on {row.host}) died without finishing; "
                     f"noticed by {by}")
            conn.execute(update(runs).where(runs.c.run_id == row.run_id)
                         .values(status="failed", finished_at=now, error=error))
            conn.execute(
                update(model_runs)
                .where((model_runs.c.run_id == row.run_id) & (model_runs.c.status == "running"))
                .values(status="failed", finished_at=now, error="interrupted: " + error)
            )
            conn.execute(delete(schema.locks).where(schema.locks.c.run_id == row.run_id))
            reaped.append(row.run_id)
    return reaped
