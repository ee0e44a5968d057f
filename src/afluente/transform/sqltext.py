"""Small SQL text builders shared by the kinds: key predicates, row hashes, first rows.

Everything here is pure string work so the kinds stay readable; quoting comes from
`afluente.sql_text`. The kinds' SQL is DuckDB's dialect; its constructs other engines lack
(`struct_pack`, `md5` of a struct's text, `QUALIFY`) are built only here, so a workspace
that translates the dialect has one place to look.
"""

from __future__ import annotations

from collections.abc import Sequence

from afluente.sql_text import col_list, ident

__all__ = ["col_list", "equal_on", "first_per", "ident", "row_hash"]


def equal_on(names: Sequence[str], left: str, right: str) -> str:
    """`l."k" = r."k" AND ...` for a join on (compound) keys."""
    return " AND ".join(f"{left}.{ident(n)} = {right}.{ident(n)}" for n in names)


def row_hash(names: Sequence[str], alias: str | None = None) -> str:
    """An md5 of the canonical text of the columns: equal rows give equal hashes, NULLs
    included (a struct renders NULL fields as NULL, unlike string concatenation)."""
    if not names:
        return "md5('')"
    prefix = f"{alias}." if alias else ""
    fields = ", ".join(f"{ident(n)} := {prefix}{ident(n)}" for n in names)
    return f"md5(CAST(struct_pack({fields}) AS VARCHAR))"


def first_per(query: str, partition_by: str, order_by: str) -> str:
    """The rows of `query` that come first in their `partition_by` group by `order_by`."""
    return (
        f"FROM ({query}) QUALIFY row_number() OVER "
        f"(PARTITION BY {partition_by} ORDER BY {order_by}) = 1"
    )
