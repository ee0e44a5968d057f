"""Whether the process that recorded a run or holds a lock is still alive."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

#: A holder on another host that has not beaten for this long is presumed dead.
STALE_AFTER = timedelta(minutes=2)


def process_alive(host: str | None, pid: int | None, heartbeat_at: datetime | None) -> bool:
    """Whether a holder (or a run) recorded with `host`/`pid`/`heartbeat_at` still lives."""
    if host == socket.gethostname() and pid:
        if pid == os.getpid():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _zombie(pid)
    if heartbeat_at is None:
        return True  # another host that never beat: nothing tells it is dead
    return datetime.now(UTC) - heartbeat_at < STALE_AFTER


def _zombie(pid: int) -> bool:
    """A killed child not yet reaped by its parent still has a pid; it is dead all the same."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
