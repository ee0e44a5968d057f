"""SQL text that afluente writes itself: identifier and literal quoting, per dialect.

Models are written in DuckDB's dialect; the SQL afluente generates around them (expectation
flags, kind diffs, bronze shaping, fixture loading) is built with these functions so quoting
rules live in one place and another engine's dialect (Spark SQL quotes identifiers with
backticks) is a second :class:`Dialect`, not a second copy of every builder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class Layered(Protocol):
    """A table's place: its layer (schema) and name (`model.TableRef`)."""

    @property
    def layer(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Dialect:
    """How one SQL dialect spells identifiers and constants."""

    name: str  # also the sqlglot dialect name
    quote_open: str
    quote_close: str
    infinity: str  # the text a DOUBLE cast accepts for +infinity
    nan: str

    def ident(self, name: str) -> str:
        """A quoted identifier; the quote character inside a name is doubled."""
        close = self.quote_close
        return self.quote_open + name.replace(close, close + close) + close

    def qualified(self, *parts: str) -> str:
        """`"layer"."table"`: each part quoted."""
        return ".".join(self.ident(p) for p in parts)

    def table(self, ref: Layered) -> str:
        """A table as SQL names it: `"silver"."orders"`."""
        return self.qualified(ref.layer, ref.name)

    def col_list(self, names: Sequence[str], alias: str | None = None) -> str:
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + self.ident(n) for n in names)

    def literal(self, value: object) -> str:
        """A constant: NULL, TRUE/FALSE, numbers as written (NaN and infinities cast from
        text), anything else as text in single quotes (doubled inside), which the engine
        casts to the type it is compared with."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | Decimal):
            return str(value)
        if isinstance(value, float):
            if math.isnan(value):
                return f"CAST('{self.nan}' AS DOUBLE)"
            if math.isinf(value):
                sign = "-" if value < 0 else ""
                return f"CAST('{sign}{self.infinity}' AS DOUBLE)"
            return repr(value)
        return self.string(str(value))

    def string(self, text: str) -> str:
        """A text constant: `it's` becomes `'it''s'`."""
        return "'" + text.replace("'", "''") + "'"


DUCKDB = Dialect("duckdb", '"', '"', "inf", "nan")
SPARK = Dialect("spark", "`", "`", "Infinity", "NaN")
DIALECTS = {d.name: d for d in (DUCKDB, SPARK)}

# Models and generated SQL are authored in DuckDB's dialect; these are its spellings.
ident = DUCKDB.ident
qualified = DUCKDB.qualified
table = DUCKDB.table
col_list = DUCKDB.col_list
literal = DUCKDB.literal
string = DUCKDB.string
