"""A SQLite state store's file: made whole at once, and refused when it was emptied.

SQLite treats an empty file as an empty database, so a `state.db` truncated to 0 bytes
(a full disk, a bad copy, `> state.db`) would be migrated afresh and every run of the
project's history silently lost. A new store is therefore never created in place: it is
built and migrated under a temporary name, then linked to its real name (an atomic step
that never replaces an existing file). A store file of 0 bytes is thus never one being
created; it is a damaged one, and opening it is refused with what to do.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy.engine import URL

from afluente.errors import StateError
from afluente.state.connect import create_state_engine, is_memory_sqlite
from afluente.state.migrate import upgrade


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL (None for other databases, memory and `file:` URIs)."""
    if url.get_backend_name() != "sqlite" or is_memory_sqlite(url):
        return None
    if str(url.query.get("uri", "")).lower() in ("true", "1"):
        return None
    return Path(str(url.database)).expanduser()


def prepare_sqlite_file(url: URL, path: Path, masked_url: str) -> None:
    """Refuse an emptied store file; create a missing one, migrated, in one atomic step."""
    if path.exists():
        _refuse_if_emptied(path, masked_url)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.new")
    engine = create_state_engine(url.set(database=str(temporary)))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process created the store first: everyone uses that one
    finally:
        for leftover in (temporary, *(Path(f"{temporary}{s}") for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)


def _refuse_if_emptied(path: Path, masked_url: str) -> None:
    if path.stat().st_size > 0:
        return
    raise StateError(
        f"state store {masked_url} is an empty file (0 bytes): the run history it held is "
        "gone, and afluente will not silently start a new one over it",
        hint=f"restore {path.name} from a backup; to start an empty history instead, move it "
        f"aside (mv {path} {path}.empty) and run again. The tables themselves are intact: "
        "`afluente show`, `history` and `query` still read them",
    )
