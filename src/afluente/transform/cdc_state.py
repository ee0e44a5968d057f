"""The SQL that turns a key's change events into its stored rows (SCD type 1 or 2).

Both builders read temp table `__cdc_events`: one row per (key, sequence) with the stored
columns, `__cdc_sequence` and `__cdc_deleted`. They are pure functions of that event set,
which is what makes apply-changes order-independent and batch-independent.
"""

from __future__ import annotations

from collections.abc import Sequence

from afluente.model.kinds import (
    CDC_DELETED,
    CDC_SEQUENCE,
    CDC_VISIBLE,
    IS_CURRENT,
    VALID_FROM,
    VALID_TO,
)
from afluente.transform.sqltext import col_list, first_per, ident, row_hash

EVENTS = "__cdc_events"
SEQUENCE, DELETED, VISIBLE = CDC_SEQUENCE, CDC_DELETED, CDC_VISIBLE
HIDDEN = (SEQUENCE, DELETED, VISIBLE)


def scd1_rows(keys: Sequence[str], columns: Sequence[str]) -> str:
    """One row per key: the event with the greatest sequence; a delete leaves a tombstone
    (invisible) so an older event arriving later cannot bring the row back."""
    return first_per(
        f"SELECT {col_list(columns)}, {SEQUENCE}, {DELETED}, NOT {DELETED} AS {VISIBLE} "
        f"FROM {EVENTS}",
        col_list(keys), f"{SEQUENCE} DESC",
    )


def scd2_rows(keys: Sequence[str], columns: Sequence[str], tracked: Sequence[str]) -> str:
    """Visible version rows plus the key's events kept as invisible rows.

    Walking a key's events in sequence order: an upsert opens a version when nothing is open
    or its tracked columns differ from the previous event's; otherwise it updates the open
    version in place (its untracked columns). A delete closes the open version. A version
    is valid from its first event's sequence to the sequence of the event that closed it.
    """
    part = col_list(keys)
    marked = (
        f"SELECT *, NOT {DELETED} AND (lag({DELETED}) OVER w IS NULL OR lag({DELETED}) OVER w"
        f" OR lag(__th) OVER w IS DISTINCT FROM __th) AS __starts,"
        f" lead({SEQUENCE}) OVER w AS __next"
        f" FROM (SELECT *, {row_hash(tracked)} AS __th FROM {EVENTS})"
        f" WINDOW w AS (PARTITION BY {part} ORDER BY {SEQUENCE})"
    )
    grouped = (
        f"SELECT *, sum(CAST(__starts OR {DELETED} AS INTEGER)) OVER (PARTITION BY {part} "
        f"ORDER BY {SEQUENCE} ROWS UNBOUNDED PRECEDING) AS __grp FROM ({marked})"
    )
    ends = (
        f"SELECT *, min({SEQUENCE}) OVER g AS __from, "
        f"row_number() OVER (PARTITION BY {part}, __grp ORDER BY {SEQUENCE} DESC) AS __last "
        f"FROM ({grouped}) WINDOW g AS (PARTITION BY {part}, __grp)"
    )
    versions = (
        f"SELECT {col_list(columns)}, __from AS {ident(VALID_FROM)}, "
        f"__next AS {ident(VALID_TO)}, __next IS NULL AS {ident(IS_CURRENT)}, "
        f"__from AS {SEQUENCE}, false AS {DELETED}, true AS {VISIBLE} "
        f"FROM ({ends}) WHERE __last = 1 AND NOT {DELETED}"
    )
    events = (
        f"SELECT {col_list(columns)}, NULL AS {ident(VALID_FROM)}, NULL AS {ident(VALID_TO)}, "
        f"NULL AS {ident(IS_CURRENT)}, {SEQUENCE}, {DELETED}, false AS {VISIBLE} FROM {EVENTS}"
    )
    return f"{versions} UNION ALL {events}"  # the same columns in the same order
