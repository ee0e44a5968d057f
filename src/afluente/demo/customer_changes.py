"""The CRM's change feed of customers: moves, new e-mail addresses and LGPD deletions.

About one customer in seven changes after registering, up to three times: a move (new city,
UF and a phone with the new area code) or a new e-mail address. A few ask for their data to be
deleted (LGPD art. 18), which arrives as an `op = D` event. Every event carries the customer's
whole state after the change (a full image) and its business time `updated_at`, between the
registration and the end of the order period, so orders placed before a move belong to the
old address.

The feed is split into files by time, and about one event in ten arrives late: it lands in a
later file than its `updated_at` says, after newer events of the same customer sometimes.
`apply_changes` must still end with the right history.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from afluente.demo import vocab
from afluente.demo.columns import epoch_seconds

CHANGE_COLUMNS = (
    "customer_id", "name", "cpf", "email", "phone", "city", "uf", "updated_at", "op"
)
CHANGE_RATE = 0.15
MORE_CHANGES = 0.35  # chance of a second (and then a third) change
DELETE_RATE = 0.02  # of the customers who change: asked for deletion afterwards
LATE_RATE = 0.10
FILES_PER_CHUNK = 3
FIRST_CHANGE = epoch_seconds(2023, 2, 1)
LAST_CHANGE = epoch_seconds(2024, 12, 1)


def customer_changes(
    rng: np.random.Generator, base: pa.Table, created: np.ndarray
) -> tuple[list[pa.Table], dict[str, int]]:
    """The change events of `base`'s customers, as the files they land in (oldest first)."""
    n = base.num_rows
    chosen = np.sort(rng.choice(n, size=max(1, int(n * CHANGE_RATE)), replace=False))
    state = {c: base.column(c).take(pa.array(chosen)).to_pylist()
             for c in ("customer_id", "name", "cpf", "email", "phone", "city", "uf")}
    at = np.maximum(created[chosen], FIRST_CHANGE).astype(np.int64)
    rows: list[tuple[object, ...]] = []
    alive = np.ones(chosen.size, dtype=bool)
    moves = emails = 0
    for change in range(3):
        if change:
            alive &= rng.random(chosen.size) < MORE_CHANGES
        idx = np.flatnonzero(alive & (at < LAST_CHANGE))
        step = rng.uniform(0.15, 0.6, idx.size)
        at[idx] = at[idx] + ((LAST_CHANGE - at[idx]) * step).astype(np.int64)
        move = rng.random(idx.size) < 0.65
        cities = rng.integers(0, len(vocab.CITIES), idx.size)
        numbers = rng.integers(0, 100_000_000, idx.size)
        suffixes = rng.integers(1, 100, idx.size)
        for k, i in enumerate(idx):
            if move[k]:
                city, uf, ddd = vocab.CITIES[cities[k]]
                state["city"][i], state["uf"][i] = city, uf
                state["phone"][i] = f"({ddd}) 9{numbers[k] // 10_000:04d}-{numbers[k] % 10_000:04d}"
                moves += 1
            else:
                state["email"][i] = _new_email(state["email"][i], int(suffixes[k]))
                emails += 1
            rows.append((*(state[c][i] for c in CHANGE_COLUMNS[:7]), int(at[i]), "U"))
    deleted = np.flatnonzero(rng.random(chosen.size) < DELETE_RATE)
    for i in deleted:
        when = int(at[i]) + int(rng.integers(3_600, 30 * 86_400))
        rows.append((state["customer_id"][i], None, None, None, None, None, None, when, "D"))
    dirt = {"customer_updates.moves": moves, "customer_updates.new_emails": emails,
            "customer_updates.deletions": int(deleted.size)}
    files, late = _land(rng, rows)
    dirt["customer_updates.late"] = late
    return files, dirt


def _new_email(old: object, suffix: int) -> str:
    local, _, domain = str(old or "cliente@example.com").partition("@")
    return f"{local.split('+')[0]}{suffix}@{domain or 'example.com'}"


def _land(rng: np.random.Generator, rows: list[tuple[object, ...]]) -> tuple[list[pa.Table], int]:
    """Split the events into files by time; some land one or two files late."""
    times = np.array([r[7] for r in rows], dtype=np.int64)
    order = np.argsort(times, kind="stable")
    file_of = np.empty(len(rows), dtype=np.int64)
    file_of[order] = np.arange(len(rows)) * FILES_PER_CHUNK // max(len(rows), 1)
    late = rng.random(len(rows)) < LATE_RATE
    landed = np.where(late, np.minimum(file_of + rng.integers(1, 3, len(rows)),
                                       FILES_PER_CHUNK - 1), file_of)
    stamps = np.array(times, dtype="datetime64[s]").astype(str)
    files: list[pa.Table] = []
    for number in range(FILES_PER_CHUNK):
        picked = [i for i in rng.permutation(len(rows)) if landed[i] == number]
        columns = {c: [rows[i][j] for i in picked] for j, c in enumerate(CHANGE_COLUMNS)}
        columns["updated_at"] = [stamps[i].replace("T", " ") for i in picked]
        files.append(pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()}))
    return files, int(np.count_nonzero(landed > file_of))
