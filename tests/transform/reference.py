"""Pure-Python reference semantics of the kinds, written for clarity, not speed.

The property tests compare the DuckDB + Delta implementation with these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    id: int
    seq: int
    op: str  # "U" upsert, "D" delete
    v: str | None  # tracked
    w: int  # untracked when history tracks only `v`

    def row(self) -> dict[str, object]:
        return {"id": self.id, "seq": self.seq, "op": self.op, "v": self.v, "w": self.w}


def by_key(events: Iterable[Event]) -> dict[int, list[Event]]:
    """Each key's distinct events in sequence order (duplicates are identical copies)."""
    keyed: dict[int, dict[int, Event]] = {}
    for event in events:
        keyed.setdefault(event.id, {})[event.seq] = event
    return {k: [e[s] for s in sorted(e)] for k, e in keyed.items()}


def scd1(events: Iterable[Event]) -> set[tuple[object, ...]]:
    """The latest event per key; a delete removes the key."""
    rows = set()
    for key, ordered in by_key(events).items():
        last = ordered[-1]
        if last.op != "D":
            rows.add((key, last.seq, last.v, last.w))
    return rows


def scd2(events: Iterable[Event], track_only_v: bool) -> set[tuple[object, ...]]:
    """(id, seq, v, w, valid_from, valid_to, is_current) per version."""
    rows = set()
    for key, ordered in by_key(events).items():
        versions: list[list[object]] = []
        open_: list[object] | None = None
        for e in ordered:
            if e.op == "D":
                if open_ is not None:
                    open_[5] = e.seq
                open_ = None
                continue
            tracked = (e.v,) if track_only_v else (e.v, e.w)
            if open_ is not None and open_[7] == tracked:
                open_[1:4] = [e.seq, e.v, e.w]
                continue
            if open_ is not None:
                open_[5] = e.seq
            open_ = [key, e.seq, e.v, e.w, e.seq, None, None, tracked]
            versions.append(open_)
        for v in versions:
            rows.add((*v[:5], v[5], v[5] is None))
    return rows


def upsert(batches: Iterable[Iterable[Event]]) -> set[tuple[object, ...]]:
    """Merge reference: batches in order; within a batch the greatest seq per key wins."""
    table: dict[int, tuple[object, ...]] = {}
    for batch in batches:
        latest: dict[int, Event] = {}
        for e in batch:
            if e.id not in latest or e.seq > latest[e.id].seq:
                latest[e.id] = e
        for key, e in latest.items():
            if e.op == "D":
                table.pop(key, None)
            else:
                table[key] = (key, e.seq, e.v, e.w)
    return set(table.values())
