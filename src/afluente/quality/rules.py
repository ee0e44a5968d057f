"""What an expectation declares: a name (generated when left out), exactly one rule, an
action and a `mostly` threshold.

The model config keeps expectations as plain mappings (the model layer knows nothing of
quality); :func:`parse_expectations` turns them into these typed rules and names the model
file, the line of the expectation (or of its faulty key) and the expectation in every error.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from afluente.config.validation import to_config_error
from afluente.config.yaml_lines import LocatedYaml
from afluente.errors import ConfigError, Location
from afluente.quality.naming import with_generated_names

Action = Literal["warn", "drop", "quarantine", "fail"]
Scope = Literal["row", "table", "schema"]
FormatName = Literal["date", "email", "cpf", "cnpj"]

ROW_RULES = ("not_null", "accepted_values", "between", "regex", "length", "format", "expression")
TABLE_RULES = ("unique", "relationships", "row_count", "freshness", "aggregate", "distribution")
SCHEMA_RULES = ("columns",)
RULES = ROW_RULES + TABLE_RULES + SCHEMA_RULES


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AcceptedValues(_Args):
    column: str
    values: tuple[Any, ...]


class Between(_Args):
    column: str
    min: float | None = None
    max: float | None = None


class Regex(_Args):
    column: str
    pattern: str


class Length(_Args):
    column: str
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class Format(_Args):
    column: str
    format: FormatName = Field(alias="as")


class Relationships(_Args):
    column: str
    to: str  # layer.table
    field: str


class RowCount(_Args):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class Freshness(_Args):
    column: str
    max_age: str  # a DuckDB interval: "2 days", "6 hours"


class Distribution(_Args):
    column: str
    null_rate_max: float | None = Field(default=None, ge=0, le=1)
    mean_min: float | None = None
    mean_max: float | None = None
    distinct_min: int | None = Field(default=None, ge=0)
    distinct_max: int | None = Field(default=None, ge=0)


class Expectation(BaseModel):
    """One declared expectation; exactly one rule key is set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # empty when not declared: parse_expectations then generates one (quality/naming.py)
    name: str = Field(default="", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    action: Action = "warn"
    mostly: float = Field(default=1.0, gt=0, le=1)
    description: str | None = None
    not_null: tuple[str, ...] | None = None
    accepted_values: AcceptedValues | None = None
    between: Between | None = None
    regex: Regex | None = None
    length: Length | None = None
    format: Format | None = None
    expression: str | None = None
    unique: tuple[str, ...] | None = None
    relationships: Relationships | None = None
    row_count: RowCount | None = None
    freshness: Freshness | None = None
    aggregate: str | None = None
    distribution: Distribution | None = None
    columns: dict[str, str] | None = None

    @field_validator("not_null", "unique", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @property
    def rule(self) -> str:
        return next(r for r in RULES if getattr(self, r) is not None)

    @property
    def scope(self) -> Scope:
        if self.rule in ROW_RULES:
            return "row"
        return "table" if self.rule in TABLE_RULES else "schema"

    @property
    def columns_used(self) -> tuple[str, ...]:
        """The output columns the rule names (checked against the model's output)."""
        value = getattr(self, self.rule)
        if self.rule in ("not_null", "unique"):
            return tuple(value)
        column = getattr(value, "column", None)
        return (column,) if isinstance(column, str) else ()


def parse_expectations(
    raw: tuple[dict[str, Any], ...], location: Location, table: str,
    doc: LocatedYaml | None = None,
) -> tuple[Expectation, ...]:
    """Typed expectations of one model; a bad one is a ConfigError naming it, at the line
    of the expectation or of its faulty key when `doc` (the config as written) is given."""
    written = doc or LocatedYaml(data=None, file=Path(location.file),
                                 lines={(): location.line or 1})
    parsed: list[Expectation] = []
    for index, entry in enumerate(raw):
        label = f"expectation #{index + 1}" + (
            f" `{entry['name']}`" if isinstance(entry.get("name"), str) else ""
        )
        where = written.part(("expectations", index), entry)
        parsed.append(_parse_one(entry, label, where, table))
    names = [e.name for e in parsed if e.name]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"expectation names must be unique in a model: {', '.join(duplicates)} repeats",
            location=location, table=table, hint="give each expectation its own name",
        )
    return with_generated_names(parsed, set(names))


def _parse_one(
    entry: dict[str, Any], label: str, where: LocatedYaml, table: str
) -> Expectation:
    """`where`: the expectation as written, with the line of each of its keys."""
    location = where.location(())
    _check_keys(entry, label, where, table)
    rules = [k for k in entry if k in RULES]
    if len(rules) != 1:
        found = ", ".join(rules) if rules else "none"
        raise ConfigError(
            f"{label} needs exactly one rule key (found: {found})",
            location=location, table=table, hint=f"rules: {', '.join(RULES)}",
        )
    try:
        expectation = Expectation.model_validate(entry)
    except ValidationError as exc:
        error = to_config_error(exc, Expectation, entry, where)
        raise ConfigError(
            f"{label}: {error.message}", location=error.location, table=table,
            hint=error.hint or "see docs/quality.md for the keys of each rule",
        ) from None
    if expectation.scope != "row" and expectation.action in ("drop", "quarantine"):
        raise ConfigError(
            f"{label}: `{expectation.rule}` is a {expectation.scope}-level rule; it can "
            f"`warn` or `fail`, not `{expectation.action}` rows",
            location=location, table=table, hint="use action: warn or action: fail",
        )
    return expectation


def _check_keys(entry: dict[str, Any], label: str, where: LocatedYaml, table: str) -> None:
    """An unknown key (a misspelt rule, most often) names its line and the closest key."""
    known = list(Expectation.model_fields)
    for key in entry:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), [*RULES, *known], n=1)
        suggestion = f"did you mean `{close[0]}`? " if close else ""
        raise ConfigError(
            f"{label}: unknown key `{key}`", location=where.location((key,)), table=table,
            hint=f"{suggestion}rules: {', '.join(RULES)}; other keys: name, action, mostly, "
            "description",
        )
