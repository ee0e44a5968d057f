"""Vectorised builders for the text columns of the synthetic landing zone.

Every function turns numpy arrays into Arrow string arrays with Arrow compute kernels, so a
million rows cost milliseconds; no Python loop ever runs per row. Small lookup tables (the
days of a date range, the seconds of a day) are formatted once in Python and gathered.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Builder = Callable[[np.ndarray], pa.Array]

EPOCH = dt.datetime(1970, 1, 1)
DAY = 86_400

# Formats a timestamp column may be written in (index = format code).
TS_ISO, TS_ISO_T, TS_BR, TS_DATE, TS_BR_DATE, TS_GARBAGE, TS_NULL = range(7)
GARBAGE_DATES: tuple[str, ...] = (
    "32/13/2024",
    "2024-02-30",
    "00/00/0000",
    "N/A",
    "ontem",
    "2024-13-01 10:00:00",
    "31/02/2023",
    "9999-99-99",
)


def strip_accents(text: str) -> str:
    """`São João` -> `Sao Joao` (for small word lists, not for columns)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def strings(values: Sequence[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return values.take(pa.array(idx))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of arrays and literal strings."""
    return pc.binary_join_element_wise(*parts, "")


def int_text(values: np.ndarray, width: int = 0) -> pa.Array:
    text = pa.array(values).cast(pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def money_text(cents: np.ndarray) -> pa.Array:
    """Cents as `1234.56`."""
    return concat(int_text(cents // 100), ".", int_text(cents % 100, 2))


def money_text_br(cents: np.ndarray, grouped: bool = True) -> pa.Array:
    """Cents as Brazilian text: `1.234,56` (grouped) or `1234,56`."""
    reais = cents // 100
    text = concat(int_text(reais), ",", int_text(cents % 100, 2))
    if not grouped:
        return text
    size = (reais >= 1000).astype(np.int8) + (reais >= 1_000_000)  # groups of 3 digits - 1

    def thousands(rows: np.ndarray) -> pa.Array:
        r = reais[rows]
        return concat(int_text(r // 1000), ".", int_text(r % 1000, 3), text_tail(rows))

    def millions(rows: np.ndarray) -> pa.Array:
        r = reais[rows]
        return concat(
            int_text(r // 1_000_000),
            ".",
            int_text(r // 1000 % 1000, 3),
            ".",
            int_text(r % 1000, 3),
            text_tail(rows),
        )

    def text_tail(rows: np.ndarray) -> pa.Array:
        return concat(",", int_text(cents[rows] % 100, 2))

    return with_variants(text, size, {1: thousands, 2: millions})


def with_variants(base: pa.Array, codes: np.ndarray, builders: dict[int, Builder]) -> pa.Array:
    """Replace the rows whose code has a builder with that builder's output.

    A builder receives the (ascending) row positions of its code and returns one value for
    each; code 0 conventionally means "keep the base value".
    """
    out = base
    for code, build in builders.items():
        rows = np.flatnonzero(codes == code)
        if rows.size:
            mask = np.zeros(len(base), dtype=bool)
            mask[rows] = True
            out = pc.replace_with_mask(out, pa.array(mask), build(rows))
    return out


def null_rows(rows: np.ndarray) -> pa.Array:
    return pa.nulls(rows.size, pa.string())


def choose_codes(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    """Draw `n` codes 0..len(weights)-1 with the given relative weights."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int8)


@lru_cache(maxsize=1)
def _clock_texts() -> tuple[pa.Array, pa.Array]:
    hms = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]
    return strings(hms), strings([t[:5] for t in hms])


def _day_texts(first_day: int, last_day: int) -> tuple[pa.Array, pa.Array]:
    days = [EPOCH + dt.timedelta(days=d) for d in range(first_day, last_day + 1)]
    return strings([d.strftime("%Y-%m-%d") for d in days]), strings(
        [d.strftime("%d/%m/%Y") for d in days]
    )


def timestamp_text(
    rng: np.random.Generator, seconds: np.ndarray, codes: np.ndarray | None = None
) -> pa.Array:
    """Epoch seconds as `YYYY-MM-DD HH:MM:SS`, or in the format each row's code says."""
    day = seconds // DAY
    first = int(day.min()) if day.size else 0
    iso_days, br_days = _day_texts(first, int(day.max()) if day.size else 0)
    hms, hm = _clock_texts()
    d_idx, clock = day - first, seconds % DAY
    base = concat(take(iso_days, d_idx), " ", take(hms, clock))
    if codes is None:
        return base
    return with_variants(
        base,
        codes,
        {
            TS_ISO_T: lambda r: concat(take(iso_days, d_idx[r]), "T", take(hms, clock[r])),
            TS_BR: lambda r: concat(take(br_days, d_idx[r]), " ", take(hm, clock[r])),
            TS_DATE: lambda r: take(iso_days, d_idx[r]),
            TS_BR_DATE: lambda r: take(br_days, d_idx[r]),
            TS_GARBAGE: lambda r: take(
                strings(GARBAGE_DATES), rng.integers(0, len(GARBAGE_DATES), r.size)
            ),
            TS_NULL: null_rows,
        },
    )


def epoch_seconds(year: int, month: int = 1, day: int = 1) -> int:
    return int((dt.datetime(year, month, day) - EPOCH).total_seconds())
