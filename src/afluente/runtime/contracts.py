"""Output contracts and schema changes: checked on the result's schema, before any write.

A model with `contract: enforced` declares `columns: {name: {type: ...}}`; its output must
have exactly those columns with exactly those types. Types are compared in the engine's
canonical spelling (DuckDB parses the declared type, so `INT`, `int4` and `INTEGER` are the
same), and a mismatch fails with one diff listing every problem, so a single run shows all
of them. Nothing has been written at that point: the table stays at its previous version.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import pyarrow as pa

from afluente.engines import DuckDBSettings, Engine, create_engine
from afluente.errors import EngineError, Location, ModelError


class ContractError(ModelError):
    """A model's output does not match its declared columns and types."""


class SchemaChangeError(ModelError):
    """An incremental model's output columns differ from its table's (on_schema_change)."""


def output_types(schema: pa.Schema, engine: Engine) -> dict[str, str]:
    """Column -> the engine's type name of an Arrow schema."""
    return engine.column_types(schema)


def canonical_type(sql_type: str, location: Location, table: str, engine: Engine) -> str:
    """The engine's spelling of a declared type; a type it cannot parse is a config error."""
    try:
        return engine.canonical_type(sql_type)
    except EngineError:
        raise ModelError(
            f"contract type {sql_type!r} is not a SQL type",
            location=location,
            table=table,
            hint="use a DuckDB type such as BIGINT, VARCHAR, DECIMAL(18,2), DATE, TIMESTAMP",
        ) from None


def check_contract(
    declared: Mapping[str, str], schema: pa.Schema, location: Location, table: str,
    engine: Engine | None = None,
) -> None:
    """Raise a ContractError with the full diff when `schema` breaks the contract. Types are
    the run's `engine`'s (a one-thread DuckDB engine of its own when none is given)."""
    if not declared:
        return
    with _engine(engine) as types:
        actual = output_types(schema, types)
        expected = {name: canonical_type(t, location, table, types)
                    for name, t in declared.items()}
    problems = contract_diff(expected, actual)
    if problems:
        raise ContractError(
            "output does not match the contract:\n  " + "\n  ".join(problems),
            location=location,
            table=table,
            hint="fix the query (CAST the columns) or the declared `columns:`; "
            "the table keeps its previous version",
        )


@contextmanager
def _engine(given: Engine | None) -> Iterator[Engine]:
    if given is not None:
        yield given
        return
    own = create_engine(DuckDBSettings(threads=1))
    try:
        yield own
    finally:
        own.close()


def contract_diff(expected: Mapping[str, str], actual: Mapping[str, str]) -> list[str]:
    """One line per problem: wrong type, missing column, extra column."""
    lines = [
        f"column {name}: expected {want}, got {actual[name]}"
        for name, want in expected.items()
        if name in actual and actual[name] != want
    ]
    lines += [f"missing column {n} ({t})" for n, t in expected.items() if n not in actual]
    lines += [f"extra column {n} ({t})" for n, t in actual.items() if n not in expected]
    return lines


def column_changes(
    table_columns: Sequence[str], output_columns: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(new columns, missing columns) of the output compared with the stored table."""
    new = [c for c in output_columns if c not in table_columns]
    missing = [c for c in table_columns if c not in output_columns]
    return new, missing


def schema_change_error(
    new: Sequence[str], missing: Sequence[str], location: Location, table: str
) -> SchemaChangeError:
    parts = []
    if new:
        parts.append(f"new column(s) {', '.join(new)}")
    if missing:
        parts.append(f"missing column(s) {', '.join(missing)}")
    return SchemaChangeError(
        "the output's columns differ from the table's: " + "; ".join(parts),
        location=location,
        table=table,
        hint="set on_schema_change: append_new_columns or sync, or run with --full-refresh",
    )
