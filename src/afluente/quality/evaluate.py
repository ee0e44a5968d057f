"""Evaluate expectations on an engine: row rules in one flagged pass, table rules with one
aggregate query each, schema rules from the output's description (no scan at all).

The engine is anything with `query(sql) -> pyarrow.Table` (the DuckDB engine, later Spark),
so this module stays beside the engines instead of above them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from afluente.errors import AfluenteError, ConfigError, Location
from afluente.quality import compile as qc
from afluente.quality.results import RuleResult, result_of
from afluente.quality.rules import Expectation

SAMPLE_ROWS = 5


class Queryable(Protocol):
    def query(self, sql: str) -> pa.Table: ...

    def describe_query(self, sql: str) -> dict[str, str]: ...


@dataclass(frozen=True)
class Target:
    """The model whose output is checked, for error messages."""

    table: str
    location: Location


def describe(engine: Queryable, source_sql: str) -> dict[str, str]:
    """Output column -> SQL type, without reading any row."""
    return engine.describe_query(source_sql)


def check_rules(
    engine: Queryable, rules: Sequence[Expectation], columns: dict[str, str],
    source_sql: str, target: Target,
) -> None:
    """Unknown columns, invalid regexes and SQL that does not bind are errors naming the
    model file and the expectation (checked on the output's description, before any scan)."""
    for rule in rules:
        check_columns(rule, list(columns), target)
        if rule.regex is not None:
            check_regex(rule, target)
        probe = _probe(rule, source_sql)
        if probe is not None:
            try:
                engine.describe_query(probe)
            except AfluenteError as exc:
                raise ConfigError(
                    f"expectation `{rule.name}`: invalid SQL in `{rule.rule}`: "
                    f"{exc.message.removeprefix('query failed: ')}",
                    location=target.location, table=target.table,
                    hint="the expression must be valid DuckDB SQL over the model's columns",
                ) from None


def check_columns(rule: Expectation, columns: Sequence[str], target: Target) -> None:
    """Every column the rule names is one of the output's `columns`."""
    for column in rule.columns_used:
        if column not in columns:
            close = difflib.get_close_matches(column, list(columns), n=1)
            hint = f"did you mean `{close[0]}`?" if close else (
                f"the output has: {', '.join(columns)}")
            raise ConfigError(
                f"expectation `{rule.name}`: column `{column}` is not in the output",
                location=target.location, table=target.table, hint=hint,
            )


def check_regex(rule: Expectation, target: Target) -> None:
    assert rule.regex is not None
    try:
        re.compile(rule.regex.pattern)
    except re.error as exc:
        raise ConfigError(
            f"expectation `{rule.name}`: invalid regex {rule.regex.pattern!r}: {exc}",
            location=target.location, table=target.table, hint="fix the pattern",
        ) from None


def _probe(rule: Expectation, source_sql: str) -> str | None:
    if rule.scope == "row":
        return f"SELECT {qc.passes(rule)} FROM ({source_sql}) AS __afq_model"
    if rule.scope == "table":
        return qc.table_query(f"({source_sql}) AS __afq_model", rule)
    return None


def row_results(
    engine: Queryable, relation: str, rules: Sequence[Expectation], columns: Sequence[str],
    model: str,
) -> list[RuleResult]:
    """Counts per rule from the flagged relation, with samples of the failing rows."""
    if not rules:
        return []
    counts = engine.query(qc.counts_query(relation, rules)).to_pylist()[0]
    values = list(counts.values())
    total = int(values[0])
    results = []
    for i, rule in enumerate(rules):
        failed = int(values[i + 1])
        sample = _sample(engine, relation, i, columns) if failed else ()
        results.append(result_of(model, rule, total, failed, sample))
    return results


def _sample(
    engine: Queryable, relation: str, index: int, columns: Sequence[str]
) -> tuple[dict[str, Any], ...]:
    return tuple(engine.query(qc.sample_query(relation, index, columns, SAMPLE_ROWS)).to_pylist())


def table_results(
    engine: Queryable, relation: str, rules: Sequence[Expectation], model: str
) -> list[RuleResult]:
    results = []
    for rule in rules:
        evaluated, failed = engine.query(qc.table_query(relation, rule)).to_pylist()[0].values()
        results.append(result_of(model, rule, int(evaluated or 0), int(failed or 0),
                                 detail=qc.describe(rule) if failed else ""))
    return results


def schema_results(
    rules: Sequence[Expectation], columns: dict[str, str], model: str
) -> list[RuleResult]:
    """Each expected column present with its expected type (types compared upper-case)."""
    results = []
    for rule in rules:
        assert rule.columns is not None
        wrong = [
            f"{name}: expected {want}, found {columns.get(name, 'missing')}"
            for name, want in rule.columns.items()
            if columns.get(name, "").upper().replace(" ", "") != want.upper().replace(" ", "")
        ]
        results.append(result_of(model, rule, len(rule.columns), len(wrong),
                                 detail="; ".join(wrong)))
    return results


def by_scope(rules: Sequence[Expectation], scope: str) -> list[Expectation]:
    return [r for r in rules if r.scope == scope]
