"""Compile expectations to SQL: pure functions from rules to query text.

Row-level rules become one flag column each (`TRUE` = the row fails) added to the model's
query, so every rule is evaluated in the same single pass that produces the table; the counts,
the kept rows and the quarantined rows are then read from that flagged result. Each
table-level rule is one aggregate query returning `(evaluated, failed)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from afluente.quality.checkdigits import cnpj_valid, cpf_valid
from afluente.quality.rules import Expectation
from afluente.sql_text import ident, literal

EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
FLAG_PREFIX = "__afq_"


quote = ident  # the name the quality modules use for it


def flag_name(index: int) -> str:
    return f"{FLAG_PREFIX}{index}"


def passes(rule: Expectation) -> str:
    """A boolean SQL expression that is TRUE when a row passes `rule` (NULL counts as
    passing for column rules: missing values are the business of `not_null`)."""
    name = rule.rule
    if name == "not_null":
        assert rule.not_null is not None
        return " AND ".join(f"{quote(c)} IS NOT NULL" for c in rule.not_null)
    if name == "expression":
        return f"coalesce(({rule.expression}), FALSE)"
    column = quote(rule.columns_used[0])
    return f"coalesce({column} IS NULL OR ({_column_check(rule)}), FALSE)"


def _column_check(rule: Expectation) -> str:
    if rule.accepted_values is not None:
        a = rule.accepted_values
        return f"{quote(a.column)} IN ({', '.join(literal(v) for v in a.values)})"
    if rule.between is not None:
        return _bounds(quote(rule.between.column), rule.between.min, rule.between.max)
    if rule.regex is not None:
        r = rule.regex
        return f"regexp_matches(CAST({quote(r.column)} AS VARCHAR), {literal(r.pattern)})"
    if rule.length is not None:
        text = f"length(CAST({quote(rule.length.column)} AS VARCHAR))"
        return _bounds(text, rule.length.min, rule.length.max)
    assert rule.format is not None
    return _format_check(quote(rule.format.column), rule.format.format)


def _bounds(value: str, low: float | None, high: float | None) -> str:
    parts = [f"{value} >= {literal(low)}" if low is not None else "",
             f"{value} <= {literal(high)}" if high is not None else ""]
    return " AND ".join(p for p in parts if p) or "TRUE"


def _format_check(column: str, fmt: str) -> str:
    if fmt == "cpf":
        return cpf_valid(column)
    if fmt == "cnpj":
        return cnpj_valid(column)
    if fmt == "email":
        return f"regexp_matches(CAST({column} AS VARCHAR), {literal(EMAIL_PATTERN)})"
    return f"TRY_CAST({column} AS DATE) IS NOT NULL"


def flagged_query(source_sql: str, rules: Sequence[Expectation]) -> str:
    """The model's rows plus one failure flag per row rule: the one pass over the output."""
    flags = ", ".join(f"NOT ({passes(r)}) AS {flag_name(i)}" for i, r in enumerate(rules))
    return f"SELECT *, {flags} FROM ({source_sql}) AS __afq_model"


def counts_query(relation: str, rules: Sequence[Expectation]) -> str:
    """Rows, then failures per rule, over the flagged result (a scan of boolean columns)."""
    sums = ", ".join(f"count_if({flag_name(i)})" for i in range(len(rules)))
    return f"SELECT count(*), {sums} FROM {relation}"


def removing(rules: Sequence[Expectation]) -> list[int]:
    return [i for i, r in enumerate(rules) if r.action in ("drop", "quarantine")]


def any_flag(indexes: Sequence[int]) -> str:
    return " OR ".join(flag_name(i) for i in indexes) or "FALSE"


def kept_query(relation: str, rules: Sequence[Expectation],
               hidden: Sequence[str] = ()) -> str:
    """The rows that go to the table: all but those a drop or quarantine rule removes
    (without the flags and the `hidden` columns carried for the quarantine)."""
    exclude = ", ".join([flag_name(i) for i in range(len(rules))] + [quote(h) for h in hidden])
    return (
        f"SELECT * EXCLUDE ({exclude}) FROM {relation} "
        f"WHERE NOT ({any_flag(removing(rules))})"
    )


def quarantined(rules: Sequence[Expectation]) -> list[int]:
    return [i for i, r in enumerate(rules) if r.action == "quarantine"]


def tally_query(relation: str, rules: Sequence[Expectation]) -> str:
    """Rows, rows quarantined, rows dropped (and not quarantined): each row counted once
    however many rules it fails."""
    held = any_flag(quarantined(rules))
    dropped = any_flag([i for i, r in enumerate(rules) if r.action == "drop"])
    return (f"SELECT count(*), count_if({held}), count_if(({dropped}) AND NOT ({held})) "
            f"FROM {relation}")


def json_of(columns: Sequence[str], carried: Mapping[str, str] | None = None) -> str:
    """The columns as one JSON object text (`{"a": 1, ...}`), plus each `carried` key with
    the value of the relation's column it names."""
    row = ", ".join([f"{quote(c)} := {row_value(c)}" for c in columns]
                    + [f"{quote(k)} := {row_value(k, v)}" for k, v in (carried or {}).items()])
    return f"CAST(to_json(struct_pack({row})) AS VARCHAR)"


def quarantine_query(
    relation: str, rules: Sequence[Expectation], columns: Sequence[str], run_id: str,
    key: str = "NULL", version: int | None = None, carried: Mapping[str, str] | None = None,
) -> str:
    """Rows failing a quarantine rule: rule names, reason, run id, the row as JSON (with the
    `carried` lineage columns), the row's key (what a later build of the same record
    replaces) and the table version."""
    chosen = quarantined(rules)
    names = ", ".join(
        f"CASE WHEN {flag_name(i)} THEN {literal(rules[i].name)} END" for i in chosen
    )
    reasons = ", ".join(
        f"CASE WHEN {flag_name(i)} THEN {literal(describe(rules[i]))} END" for i in chosen
    )
    return (
        f"SELECT CAST(list_filter([{names}], x -> x IS NOT NULL) AS VARCHAR[]) AS _rules, "
        f"CAST(concat_ws('; ', {reasons}) AS VARCHAR) AS _reason, "
        f"CAST({literal(run_id)} AS VARCHAR) AS _run_id, "
        f"current_timestamp AS _quarantined_at, {json_of(columns, carried)} AS _row, "
        f"CAST({key} AS VARCHAR) AS _key, CAST({literal(version)} AS BIGINT) AS _version "
        f"FROM {relation} WHERE {any_flag(chosen)}"
    )


RESCUED = "_rescued_data"  # bronze's JSON text of what did not land (file and line included)


def row_value(key: str, column: str | None = None) -> str:
    """The value of `column` (default: `key`) under `key` in a quarantined row's JSON:
    `_rescued_data` is nested as JSON, so the copy of a rescued line keeps its file and line
    readable (`_row->'_rescued_data'->>'_line'`) rather than as an escaped string."""
    value = quote(column or key)
    if key != RESCUED:
        return value
    text = f"CAST({value} AS VARCHAR)"
    return f"CASE WHEN json_valid({text}) THEN json({text}) ELSE to_json({value}) END"


def sample_query(relation: str, index: int, columns: Sequence[str], limit: int) -> str:
    cols = ", ".join(quote(c) for c in columns)
    return f"SELECT {cols} FROM {relation} WHERE {flag_name(index)} LIMIT {limit}"


def describe(rule: Expectation) -> str:
    """A short human reading of the rule, for reasons and reports."""
    value = getattr(rule, rule.rule)
    if rule.rule in ("expression", "aggregate"):
        return f"{rule.name}: {rule.rule} `{value}` is false"
    if rule.rule in ("not_null", "unique"):
        return f"{rule.name}: {rule.rule} ({', '.join(value)})"
    if rule.rule == "columns":
        return f"{rule.name}: columns {', '.join(f'{k} {v}' for k, v in value.items())}"
    details = value.model_dump(exclude_none=True, by_alias=True)
    shown = ", ".join(f"{k}={v}" for k, v in details.items())
    return f"{rule.name}: {rule.rule} ({shown})"


def table_query(relation: str, rule: Expectation) -> str:
    """One aggregate query returning `(evaluated, failed)` for a table-level rule."""
    if rule.unique is not None:
        keys = ", ".join(quote(c) for c in rule.unique)
        return (
            f"SELECT coalesce(sum(n), 0), coalesce(sum(CASE WHEN n > 1 THEN n END), 0) "
            f"FROM (SELECT count(*) AS n FROM {relation} GROUP BY {keys})"
        )
    if rule.relationships is not None:
        r = rule.relationships
        target = ".".join(quote(p) for p in r.to.split("."))
        return (
            f"SELECT count({quote(r.column)}), count_if({quote(r.column)} IS NOT NULL AND "
            f"{quote(r.column)} NOT IN (SELECT {quote(r.field)} FROM {target} "
            f"WHERE {quote(r.field)} IS NOT NULL)) FROM {relation}"
        )
    if rule.row_count is not None:
        check = _bounds("count(*)", rule.row_count.min, rule.row_count.max)
        return f"SELECT count(*), CASE WHEN {check} THEN 0 ELSE 1 END FROM {relation}"
    if rule.freshness is not None:
        f = rule.freshness
        newest = f"max({quote(f.column)})"
        check = (f"{newest} >= CAST(current_timestamp AS TIMESTAMP) - "
                 f"INTERVAL {literal(f.max_age)}")
        return (f"SELECT count(*), CASE WHEN coalesce({check}, FALSE) THEN 0 ELSE 1 END "
                f"FROM {relation}")
    if rule.aggregate is not None:
        return (f"SELECT count(*), CASE WHEN coalesce(({rule.aggregate}), FALSE) THEN 0 "
                f"ELSE 1 END FROM {relation}")
    assert rule.distribution is not None
    return _distribution_query(relation, rule)


def _distribution_query(relation: str, rule: Expectation) -> str:
    d = rule.distribution
    assert d is not None
    col = quote(d.column)
    checks = []
    if d.null_rate_max is not None:
        checks.append(f"count_if({col} IS NULL) <= {d.null_rate_max} * count(*)")
    if d.mean_min is not None or d.mean_max is not None:
        checks.append(f"coalesce({_bounds(f'avg({col})', d.mean_min, d.mean_max)}, FALSE)")
    if d.distinct_min is not None or d.distinct_max is not None:
        checks.append(_bounds(f"count(DISTINCT {col})", d.distinct_min, d.distinct_max))
    check = " AND ".join(checks) or "TRUE"
    return f"SELECT count(*), CASE WHEN {check} THEN 0 ELSE 1 END FROM {relation}"
