"""Dimensional modelling helpers: small, pure SQL generators for star schemas.

* a stable surrogate key: the same business key gives the same BIGINT on every run and every
  engine, because it is derived from md5 of a canonical text of the key (never from a
  sequence or an engine's internal hash, which may change between versions);
* an "unknown" member row (key -1) so facts whose foreign key finds no dimension row still
  join (inner joins keep them, reports show "Unknown");
* an SCD2-aware lookup: the dimension version valid at the fact's event time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from afluente.transform.cdc_state import VALID_FROM, VALID_TO
from afluente.transform.errors import KindSpecError
from afluente.transform.sqltext import ident

UNKNOWN_KEY = -1
NULL_TOKEN = "~"  # stands for NULL in the canonical text; a real value is always "len:text"
HEX_DIGITS = 15  # 60 bits: always a positive BIGINT


def surrogate_key_sql(columns: Sequence[str], alias: str | None = None) -> str:
    """A BIGINT expression hashing the business key columns (in the given order).

    Each value is cast to text and written as `length:text` (NULL as `~`), joined by `,`:
    the length prefix makes the text unambiguous, so ('a,b', 'c') and ('a', 'b,c') differ.
    """
    prefix = f"{alias}." if alias else ""
    parts = []
    for column in columns:
        text = f"CAST({prefix}{ident(column)} AS VARCHAR)"
        parts.append(f"coalesce(CAST(length({text}) AS VARCHAR) || ':' || {text}, '{NULL_TOKEN}')")
    canonical = " || ',' || ".join(parts)
    return f"CAST('0x' || left(md5({canonical}), {HEX_DIGITS}) AS BIGINT)"


def surrogate_key(values: Sequence[object]) -> int:
    """The value `surrogate_key_sql` computes, for keys whose text form Python and DuckDB
    agree on (strings, integers); for tests and for seeding rows outside the engine."""
    parts = [NULL_TOKEN if v is None else f"{len(str(v))}:{v}" for v in values]
    return int(hashlib.md5(",".join(parts).encode()).hexdigest()[:HEX_DIGITS], 16)


def unknown_member_sql(key_column: str, columns: Mapping[str, str], label: str = "Unknown") -> str:
    """A one-row SELECT: key -1, text columns `label`, every other column NULL.

    `columns` maps each other dimension column to its SQL type.
    """
    values = [f"{UNKNOWN_KEY} AS {ident(key_column)}"]
    for name, sql_type in columns.items():
        is_text = sql_type.strip().upper() in ("VARCHAR", "TEXT", "STRING")
        value = "'" + label.replace("'", "''") + "'" if is_text else "NULL"
        values.append(f"CAST({value} AS {sql_type}) AS {ident(name)}")
    return "SELECT " + ", ".join(values)


def with_unknown_member(dimension_sql: str, key_column: str, columns: Mapping[str, str]) -> str:
    """The dimension's rows plus the unknown member (unless a row with key -1 exists)."""
    return (
        f"SELECT * FROM ({dimension_sql}) UNION ALL BY NAME "
        f"SELECT * FROM ({unknown_member_sql(key_column, columns)}) u "
        f"WHERE NOT EXISTS (SELECT 1 FROM ({dimension_sql}) d "
        f"WHERE d.{ident(key_column)} = {UNKNOWN_KEY})"
    )


# The validity test `at < valid_to, an open end (NULL) meaning +infinity` is written without
# an OR: `(valid_to IS NULL OR at < valid_to)` makes DuckDB fall back to a nested-loop join
# (quadratic per key); a single comparison of a fact-side and a dimension-side expression
# keeps the join a hash join on the keys. With the sequence type known, NULL becomes a typed
# value above every event time; without it, the one-element lists `[at] < [valid_to]` do
# it for any type (in DuckDB's ordering of nested values a NULL element sorts after every
# value, so `[x] < [NULL]` is true; `[NULL] < [y]` is false like `NULL >= valid_from`).
_INFINITY_TYPES = frozenset(
    {
        "DATE",
        "TIMESTAMP",
        "DATETIME",
        "TIMESTAMPTZ",
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
        "DOUBLE",
        "FLOAT",
        "REAL",
    }
)
_INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "INT",
        "BIGINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "INT1",
        "INT2",
        "INT4",
        "INT8",
    }
)
# Above every value of a 64-bit (signed or unsigned) integer; compared as HUGEINT.
_ABOVE_ALL_INTEGERS = 2**64


def _before_end(at: str, valid_to: str, sequence_type: str | None) -> str:
    """`at < valid_to`, true when valid_to is NULL (open end); a single join comparison."""
    if sequence_type is None:
        return f"[{at}] < [{valid_to}]"
    kind = " ".join(sequence_type.upper().split())
    if kind in _INFINITY_TYPES:
        # an untyped literal takes valid_to's type: +infinity of DATE / TIMESTAMP* / DOUBLE
        return f"{at} < coalesce({valid_to}, 'infinity')"
    if kind in _INTEGER_TYPES:
        above = f"CAST({_ABOVE_ALL_INTEGERS} AS HUGEINT)"
        return f"{at} < coalesce(CAST({valid_to} AS HUGEINT), {above})"
    known = sorted(_INFINITY_TYPES | _INTEGER_TYPES)
    raise KindSpecError(
        f"scd2_lookup_join: sequence_type {sequence_type!r} is not supported; pass the type of "
        f"the dimension's sequence column (valid_from/valid_to), one of {', '.join(known)}, "
        "or leave sequence_type out (works for any type)"
    )


def scd2_lookup_join(
    dimension: str,
    fact_alias: str,
    dim_alias: str,
    keys: Mapping[str, str],
    event_time: str,
    *,
    sequence_type: str | None = None,
) -> str:
    """A LEFT JOIN clause picking the dimension version valid at the fact's event time.

    `keys` maps fact column -> dimension column; validity is half-open
    [valid_from, valid_to), an open end (NULL) meaning "still valid". `sequence_type` is the
    SQL type of the dimension's sequence column: optional (any type works without it);
    DATE, TIMESTAMP*, DOUBLE/FLOAT and the integer types up to 64 bits give a slightly
    cheaper scalar comparison, any other type raises KindSpecError. Either way DuckDB
    plans a hash join on the keys (no OR in the condition), see `_before_end`.
    """
    on = [f"{fact_alias}.{ident(f)} = {dim_alias}.{ident(d)}" for f, d in keys.items()]
    at = f"{fact_alias}.{ident(event_time)}"
    on.append(f"{at} >= {dim_alias}.{ident(VALID_FROM)}")
    on.append(_before_end(at, f"{dim_alias}.{ident(VALID_TO)}", sequence_type))
    return f"LEFT JOIN {dimension} {dim_alias} ON " + " AND ".join(on)


def key_or_unknown(dim_alias: str, key_column: str) -> str:
    """The looked-up surrogate key, or -1 when no version matched."""
    return f"coalesce({dim_alias}.{ident(key_column)}, {UNKNOWN_KEY})"
