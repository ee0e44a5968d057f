"""Remove values from every text in the state store (an erasure's part in the metadata).

Events, quality samples, metric profiles and incident details are JSON or free text; each
text column of each table is rewritten where the given function changes it. On SQLite the
file is then vacuumed (deleted rows and old page versions otherwise stay readable in the
file's free pages and write-ahead log). A column that is a primary key is left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import String, Text, and_, select, text, update
from sqlalchemy.engine import Connection, Engine

from afluente.state import schema

Scrub = Callable[[str], str]


def scrub_store(engine: Engine, scrub: Scrub, sqlite: bool) -> dict[str, int]:
    """Rows changed per table."""
    changed: dict[str, int] = {}
    with engine.begin() as conn:
        for table in schema.metadata.sorted_tables:
            count = _scrub_table(conn, table, scrub)
            if count:
                changed[table.name] = count
    if sqlite and changed:
        vacuum_sqlite(engine)
    return changed


def vacuum_sqlite(engine: Engine) -> None:
    """Rebuild the file without free pages, then empty the write-ahead log (outside any
    transaction, on a connection of its own)."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        previous = driver.isolation_level  # type: ignore[union-attr]
        driver.isolation_level = None  # type: ignore[union-attr]
        driver.execute("VACUUM")  # type: ignore[union-attr]
        driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        driver.isolation_level = previous  # type: ignore[union-attr]
    finally:
        raw.close()


def _scrub_table(conn: Connection, table: schema.Table, scrub: Scrub) -> int:
    keys = list(table.primary_key.columns)
    texts = [c for c in table.columns
             if isinstance(c.type, Text | String) and not c.primary_key]
    texts += [c for c in table.columns if c.type.__class__.__name__ == "JSONText"]
    if not keys or not texts:
        return 0
    names = list(dict.fromkeys(c.name for c in texts))
    raw = [text(f'"{n}"') for n in names]
    count = 0
    rows = conn.execute(select(*keys, *raw).select_from(table)).all()
    for row in rows:
        values = dict(zip(names, row[len(keys):], strict=True))
        new = {n: scrub(v) for n, v in values.items() if isinstance(v, str) and scrub(v) != v}
        if new:
            where = and_(*(k == row[i] for i, k in enumerate(keys)))
            conn.execute(update(table).where(where).values(
                {n: text(":v_" + n).bindparams(**{"v_" + n: v}) for n, v in new.items()}))
            count += 1
    return count
