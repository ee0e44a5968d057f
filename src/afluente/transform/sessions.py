"""Session windows kept by merge: a session per key grows while events come closer than a
gap to it, and two sessions merge when an event (a late one, within the watermark) bridges
them.

The model's output gives each row its key, `session_start` and `session_end` (for one event,
both its time) and aggregates folded by `combine`. The incoming rows and the stored sessions
of the same keys are ordered by start; a row opens a new session when it starts at or after
the previous rows' latest end plus the gap (as Spark's `session_window`: an event extends its
session to its time plus the gap), else it joins it. Each session holding an incoming row is
upserted with the earliest start, the latest end and the folded aggregates; the stored
sessions it swallowed, keyed by another start, are deleted — all in the merge's one commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from afluente.engines.protocol import Workspace
from afluente.transform.delta_target import ACTION, Target, register_target
from afluente.transform.errors import KindSpecError
from afluente.transform.sqltext import col_list, equal_on, ident

START, END = "session_start", "session_end"
STORED, ALL, ISLANDS, MERGED = "__sessions_stored", "__sessions_all", "__sessions_islands", (
    "__sessions_merged")
_NEW, _ISLAND = "__session_new", "__session_island"
_AGGREGATE = {"sum": "sum", "min": "min", "max": "max"}


def check_sessions(keys: Sequence[str], combine: dict[str, str], available: Sequence[str],
                   table: str) -> None:
    """The output has the session columns, the unique key ends with `session_start`, and
    every other column is folded by `combine` (two merged sessions keep one value)."""
    if list(keys[-1:]) != [START] or END not in available or START not in available:
        raise KindSpecError(
            f"`session_gap` needs the columns {START} and {END} in the output and "
            f"`unique_key` ending with {START} (unique_key: {', '.join(keys)}; columns: "
            f"{', '.join(available)})", table=table,
            hint=f"select each event's time as {START} and as {END}, and key the table by "
                 f"[<group keys>, {START}]")
    loose = [c for c in available if c not in keys and c != END and c not in combine]
    if loose:
        raise KindSpecError(
            f"`session_gap`: column(s) {', '.join(loose)} have no `combine` (sum, min or "
            "max): merging two sessions would have to drop one of their values", table=table,
            hint="add them to `combine`, or leave them out of the query")


def session_diff(ws: Workspace, target: Target, incoming: str, diff: str,
                 keys: Sequence[str], gap_seconds: float, combine: dict[str, str],
                 available: Sequence[str]) -> None:
    """Temp table `diff`: the sessions to upsert and the swallowed ones to delete."""
    groups = list(keys[:-1])
    first = groups[0] if groups else None
    stored = register_target(ws, target, STORED,
                             keys_of=(incoming, first) if first else None)
    columns = col_list(available)
    union = f"SELECT {columns}, 1 AS {_NEW} FROM {ident(incoming)}"
    if stored:
        same = (f"WHERE EXISTS (SELECT 1 FROM {ident(incoming)} s WHERE "
                f"{equal_on(groups, 's', 't')})" if groups else "")
        union += f" UNION ALL SELECT {col_list(available, 't')}, 0 FROM {STORED} t {same}"
    try:
        ws.create(ALL, union)
    finally:
        if stored:
            ws.drop(STORED)
    _islands(ws, groups, gap_seconds)
    _merged(ws, groups, combine, available)
    keyed = equal_on([*groups, _ISLAND], "i", "m")
    ws.create(diff, (
        f"SELECT {col_list(available, 'm')}, 'U' AS {ident(ACTION)} FROM {MERGED} m "
        f"UNION ALL SELECT {col_list(available, 'i')}, 'D' FROM {ISLANDS} i "
        f"JOIN {MERGED} m ON {keyed} "
        f"WHERE i.{_NEW} = 0 AND i.{ident(START)} <> m.{ident(START)}"))
    for name in (ALL, ISLANDS, MERGED):
        ws.drop(name)


def _islands(ws: Workspace, groups: list[str], gap_seconds: float) -> None:
    """Number the sessions of each key: a row starting at or after the latest end before it
    plus the gap opens the next one."""
    part = f"PARTITION BY {col_list(groups)} " if groups else ""
    order = f"ORDER BY {ident(START)}, {ident(END)}"
    previous = (f"max({ident(END)}) OVER ({part}{order} "
                "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)")
    gap = f"INTERVAL '{int(gap_seconds * 1_000_000)}' MICROSECOND"
    ws.create(ISLANDS + "_breaks", (
        f"SELECT *, CASE WHEN {previous} IS NULL OR {ident(START)} >= {previous} + {gap} "
        f"THEN 1 ELSE 0 END AS __session_break FROM {ALL}"))
    ws.create(ISLANDS, (
        f"SELECT *, sum(__session_break) OVER ({part}{order} ROWS UNBOUNDED PRECEDING) "
        f"AS {_ISLAND} FROM {ISLANDS}_breaks"))
    ws.drop(ISLANDS + "_breaks")


def _merged(ws: Workspace, groups: list[str], combine: dict[str, str],
            available: Sequence[str]) -> None:
    """One row per session that holds an incoming row."""
    folds = {**combine, START: "min", END: "max"}
    values = ", ".join(
        ident(c) if c in groups else f"{_AGGREGATE[folds[c]]}({ident(c)}) AS {ident(c)}"
        for c in available)
    by = col_list([*groups, _ISLAND])
    ws.create(MERGED, (
        f"SELECT {values}, {ident(_ISLAND)} FROM {ISLANDS} GROUP BY {by} "
        f"HAVING max({_NEW}) = 1"))
