"""DuckDB functions Spark SQL lacks, or that sqlglot translates to something else, written as
the Spark expressions that compute the same value.

Each rewrite is one entry of `REWRITES`: a DuckDB function name (lower case) and a function
from its argument nodes to a Spark expression (None: leave the call as it is, sqlglot then
translates it or Spark reports it). Templates are Spark SQL with `:name` placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import sqlglot
from sqlglot import exp

# accented letters and what DuckDB's strip_accents leaves of them (Latin-1 and Latin
# Extended-A: every letter Portuguese, Spanish, French, German and Italian write)
ACCENTED = (
    "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿ"
    "ĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽž"
)
PLAIN = (
    "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYyy"
    "AaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiINnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZz"
)
assert len(ACCENTED) == len(PLAIN)

# DuckDB strptime specifiers → Spark datetime pattern letters (one letter: 1 or 2 digits,
# as DuckDB's parser accepts)
_SPECIFIERS = {"Y": "yyyy", "m": "M", "d": "d", "H": "H", "M": "m", "S": "s", "f": "SSSSSS",
               "y": "yy", "b": "MMM", "B": "MMMM", "p": "a", "I": "h", "%": "%"}
_SPECIFIER = re.compile(r"%(.)")

Rewrite = Callable[[Sequence[exp.Expr]], exp.Expr | None]


def spark_template(sql: str, **arguments: exp.Expr) -> exp.Expr:
    """Spark SQL `sql` with each `:name` replaced by a copy of `arguments[name]`."""
    tree = sqlglot.parse_one(sql, read="spark")
    return exp.replace_placeholders(tree, **{k: v.copy() for k, v in arguments.items()})


def strip_accents(args: Sequence[exp.Expr]) -> exp.Expr | None:
    if len(args) != 1:
        return None
    return spark_template(f"TRANSLATE(:text, '{ACCENTED}', '{PLAIN}')", text=args[0])


def spark_pattern(duckdb_format: str) -> str | None:
    """A DuckDB strptime format as a Spark datetime pattern (None: a specifier Spark lacks)."""
    out: list[str] = []
    position = 0
    for match in _SPECIFIER.finditer(duckdb_format):
        out.append(_quoted(duckdb_format[position:match.start()]))
        letters = _SPECIFIERS.get(match.group(1))
        if letters is None:
            return None
        out.append(letters if letters != "%" else _quoted("%"))
        position = match.end()
    out.append(_quoted(duckdb_format[position:]))
    return "".join(out)


def _quoted(text: str) -> str:
    """Literal text in a Spark pattern: letters quoted, a quote doubled."""
    if not text:
        return ""
    if not re.search(r"[A-Za-z']", text):
        return text
    return "'" + text.replace("'", "''") + "'"


def try_strptime(args: Sequence[exp.Expr]) -> exp.Expr | None:
    """`try_strptime(text, format | [formats])`: the first format that parses, else NULL; a
    TIMESTAMP without time zone, as DuckDB's."""
    if len(args) != 2:
        return None
    formats = args[1].expressions if isinstance(args[1], exp.Array) else [args[1]]
    if not formats or not all(isinstance(f, exp.Literal) and f.is_string for f in formats):
        return None
    patterns = [spark_pattern(f.name) for f in formats]
    if any(p is None for p in patterns):
        return None
    parsed = [spark_template(f"CAST(TRY_TO_TIMESTAMP(:text, {exp.Literal.string(p).sql('spark')})"
                             " AS TIMESTAMP_NTZ)", text=args[0]) for p in patterns if p]
    return parsed[0] if len(parsed) == 1 else exp.Coalesce(this=parsed[0], expressions=parsed[1:])


DOW = "(((DAYOFWEEK(:day) + 5) % 7) + 1)"  # Spark: 1 = Sunday; ISO: 1 = Monday
ISODOW = f"CAST({DOW} AS BIGINT)"


def isodow(args: Sequence[exp.Expr]) -> exp.Expr | None:
    return spark_template(ISODOW, day=args[0]) if len(args) == 1 else None


def isoyear(args: Sequence[exp.Expr]) -> exp.Expr | None:
    """The ISO year: the year of the week's Thursday."""
    if len(args) != 1:
        return None
    return spark_template(f"CAST(YEAR(DATE_ADD(:day, 4 - {DOW})) AS BIGINT)", day=args[0])


def json_valid(args: Sequence[exp.Expr]) -> exp.Expr | None:
    return spark_template("(TRY_PARSE_JSON(:text) IS NOT NULL)", text=args[0]) \
        if len(args) == 1 else None


def json(args: Sequence[exp.Expr]) -> exp.Expr | None:
    """JSON text as a JSON value (a VARIANT: `to_json` writes it nested, not as a string)."""
    if len(args) != 1:
        return None
    return exp.Anonymous(this="PARSE_JSON", expressions=[args[0].copy()])


def json_or_text(node: exp.Case) -> exp.Expr | None:
    """`CASE WHEN json_valid(t) THEN json(t) ELSE to_json(v) END` (text nested as JSON when
    it is JSON, else as a JSON string) as one VARIANT: Spark's CASE needs one type."""
    ifs = node.args.get("ifs") or []
    default = node.args.get("default")
    if len(ifs) != 1 or not isinstance(default, exp.Anonymous) or len(default.expressions) != 1:
        return None
    test, then = ifs[0].this, ifs[0].args.get("true")
    if not (isinstance(test, exp.Anonymous) and test.name.lower() == "json_valid"
            and isinstance(then, exp.ParseJSON) and default.name.lower() == "to_json"):
        return None
    return spark_template(
        "COALESCE(TRY_PARSE_JSON(:text), CAST(CAST(:value AS STRING) AS VARIANT))",
        text=test.expressions[0], value=default.expressions[0])


REWRITES: dict[str, Rewrite] = {
    "strip_accents": strip_accents,
    "try_strptime": try_strptime,
    "isodow": isodow,
    "isoyear": isoyear,
    "json_valid": json_valid,
    "json": json,
}


def rewrite_function(node: exp.Expr) -> exp.Expr | None:
    """The Spark form of a DuckDB function call, or None when `node` needs none."""
    if isinstance(node, exp.Anonymous):
        rewrite = REWRITES.get(node.name.lower())
        return rewrite(node.expressions) if rewrite is not None else None
    if isinstance(node, exp.DayOfWeekIso):
        return isodow([node.this])
    if isinstance(node, exp.DayOfWeek):  # DuckDB: 0 = Sunday; Spark: 1 = Sunday
        return spark_template("CAST(DAYOFWEEK(:day) - 1 AS BIGINT)", day=node.this)
    if isinstance(node, exp.ParseJSON):
        return json([node.this])
    if isinstance(node, exp.Cast):
        return hex_to_integer(node)
    if isinstance(node, DATE_PARTS) and not isinstance(node.parent, exp.Cast):
        return exp.cast(node.copy(), exp.DataType.build("bigint"))
    return None


# DuckDB's date parts are BIGINT, Spark's INT: cast, so a table has one Delta schema
DATE_PARTS = (exp.Year, exp.Quarter, exp.Month, exp.Day, exp.WeekOfYear, exp.DayOfYear,
              exp.DayOfMonth)


def hex_to_integer(node: exp.Cast) -> exp.Expr | None:
    """`CAST('0x' || digits AS BIGINT)` (DuckDB reads hexadecimal text; Spark's cast does
    not) as `CAST(CONV(digits, 16, 10) AS BIGINT)`."""
    text = node.this
    if not (isinstance(text, exp.DPipe) and isinstance(text.this, exp.Literal)
            and text.this.name.lower() == "0x" and node.to.is_type("bigint", "int")):
        return None
    return spark_template(f"CAST(CONV(:digits, 16, 10) AS {node.to.sql('spark')})",
                          digits=text.expression)
