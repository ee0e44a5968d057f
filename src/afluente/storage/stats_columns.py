"""Keep personal columns out of Delta file statistics.

Delta keeps each data file's `minValues`/`maxValues` per column in `_delta_log`: a table
of CPFs would keep its smallest and largest CPF in every commit. The table property
`delta.dataSkippingStatsColumns` limits the statistics to the columns it lists; delta-rs
honours it on every write and merge. Set when a table is created (no commit of its own),
or later by an erasure. Columns added after it is set are not listed, so they keep no
statistics either (a filter on them cannot skip files)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from afluente.model import TableRef

STATS_COLUMNS = "delta.dataSkippingStatsColumns"
#: (table, its columns) → the ones holding personal data (given by the runtime)
PrivateColumns = Callable[[TableRef, Sequence[str]], Collection[str]]


def stats_property(columns: Sequence[str], private: Collection[str]) -> dict[str, str]:
    """The table property keeping `private` columns out of the statistics; empty when no
    column of `columns` is private."""
    lowered = {c.lower() for c in private}
    if not any(c.lower() in lowered for c in columns):
        return {}
    return {STATS_COLUMNS: ",".join(c for c in columns if c.lower() not in lowered)}
