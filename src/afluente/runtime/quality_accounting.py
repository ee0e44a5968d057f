"""Where every row a checked table read went, across incremental builds.

After each committed build of a table with expectations, one `quality_accounted` event holds
the totals since the table last read all of its input (a `full` model, a rebuild, a full
read): `read` rows, `dropped`, `duplicates` (rows superseded by another row of the same key:
folded in the same batch, an older version a `merge` updated, an earlier reject the
quarantine replaced) and the rows now in the table and its quarantine, so that

    read = table_rows + quarantine_rows + dropped + duplicates

and, for a silver table reading each row of its bronze table once, `read` is bronze's row
count. A build that read all of its input starts the totals again from its own tally; one
that read only new rows adds to them, its duplicates being what its batch did not add to the
table and the quarantine. A `time_range` build that re-reads whole partitions cannot tell the
rows it read before from new ones: its totals are null until the next full read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from afluente.runtime.quality_step import QualityTally

ACCOUNTED = "quality_accounted"
ReadScope = Literal["all", "new", "partitions"]
TOTALS = ("read", "dropped", "duplicates")


@dataclass(frozen=True)
class Holding:
    """The rows in a table (those its readers see) and in its quarantine at one moment."""

    table: int
    quarantine: int


def account(previous: dict[str, object] | None, tally: QualityTally, scope: ReadScope,
            before: Holding, after: Holding) -> dict[str, int | None]:
    """The payload of the `quality_accounted` event after one build."""
    held: dict[str, int | None] = {"table_rows": after.table, "quarantine_rows": after.quarantine}
    if scope == "all":
        return {"read": tally.rows, "dropped": tally.dropped, "duplicates": tally.duplicates,
                **held}
    totals = _totals(previous)
    if scope == "partitions" or totals is None:
        return {**dict.fromkeys(TOTALS), **held}
    read, dropped, duplicates = totals
    kept = tally.rows - tally.dropped
    added = (after.table - before.table) + (after.quarantine - before.quarantine)
    return {"read": read + tally.rows, "dropped": dropped + tally.dropped,
            "duplicates": duplicates + kept - added, **held}


def _totals(previous: dict[str, object] | None) -> tuple[int, int, int] | None:
    if previous is None:
        return None
    values = [previous.get(k) for k in TOTALS]
    if not all(isinstance(v, int) for v in values):
        return None
    read, dropped, duplicates = (int(str(v)) for v in values)
    return read, dropped, duplicates
