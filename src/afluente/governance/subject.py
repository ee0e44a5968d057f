"""A data subject (`cpf=...`) and everything that identifies them in the warehouse.

The subject starts as one value. Rows holding it (in a column of personal data of the same
kind, compared in normal form: digits of a CPF, lower-case e-mail) are the subject's; their
other identifying values (an e-mail, the CPF) and their business keys (`keys:` of the model,
followed along column lineage to every copy of the key) then find more rows, until nothing
new turns up. Names and phones are collected but never match rows on their own: namesakes
and shared phones exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import escape

import pyarrow as pa
import pyarrow.compute as pc

from afluente.errors import ErasureError
from afluente.governance.opened_columns import ColumnOpener
from afluente.governance.pii_columns import JSON_ROWS
from afluente.governance.pii_kinds import IDENTIFYING, Kind, digits, kind_of_name, normalize

MIN_NEEDLE = 4  # shorter values are not searched for in text (they would hit everything)
#: values no person is found by, and which JSON and reports hold everywhere (a flag column
#: computed from a personal one is personal by lineage, but `true` is nobody's)
NOT_NEEDLES = frozenset({"true", "false", "null", "none", "nan"})


@dataclass(frozen=True)
class Subject:
    """`column=value` as given on the command line."""

    column: str
    value: str

    @property
    def kind(self) -> Kind | None:
        return kind_of_name(self.column)

    @classmethod
    def parse(cls, text: str) -> Subject:
        column, sep, value = text.partition("=")
        if not sep or not column.strip() or not value.strip():
            raise ErasureError(
                f"--subject {text!r} is not COLUMN=VALUE",
                hint="name the subject by an identifying value, e.g. --subject cpf=12345678909")
        return cls(column.strip(), value.strip())


@dataclass
class Profile:
    """What identifies the subject: values by kind, key values by `table.column`, and every
    raw value their rows hold in columns of personal data (searched for in text)."""

    identifiers: dict[str, set[str]] = field(default_factory=dict)
    by_column: dict[str, set[str]] = field(default_factory=dict)  # a subject given by column
    keys: dict[str, set[str]] = field(default_factory=dict)
    values: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, subject: Subject) -> Profile:
        kind = subject.kind
        if kind in IDENTIFYING:
            return cls(identifiers={kind: {normalize(kind, subject.value)}},
                       values={subject.value})
        return cls(by_column={subject.column: {subject.value}})

    def size(self) -> int:
        return sum(len(v) for d in (self.identifiers, self.by_column, self.keys)
                   for v in d.values()) + len(self.values)

    def identifying_needles(self) -> list[str]:
        """The identifying values in the forms text may hold them (a CPF with its dots)."""
        return Profile(identifiers=self.identifiers).needles()

    def needles(self) -> list[str]:
        """The texts to search for and erase: raw values, their normal forms, the forms
        JSON and HTML give them; longest first."""
        found: set[str] = set()
        for value in self.values:
            found.update(_forms(value))
        for kind, values in self.identifiers.items():
            for value in values:
                found.update(_forms(value))
                if kind == "cpf" and len(value) == 11:
                    found.add(f"{value[:3]}.{value[3:6]}.{value[6:9]}-{value[9:]}")
        return sorted((n for n in found if len(n) >= MIN_NEEDLE
                       and n.lower() not in NOT_NEEDLES), key=len, reverse=True)


def _forms(value: str) -> set[str]:
    text = value.strip()
    folded = " ".join(text.split())
    forms = {text, folded, escape(folded), json.dumps(folded)[1:-1]}
    number = digits(text)
    if len(number) >= 8 and len(number) >= len(text) - 6:  # a CPF, phone, CEP in any format
        forms.add(number)
        if len(number) in (12, 13) and number.startswith("55"):
            forms.add(number[2:])
    return forms


Matcher = Callable[[pa.Table], pa.Array]


def row_matcher(profile: Profile, table: str, pii: dict[str, Kind | None],
                opener: ColumnOpener | None = None) -> Matcher:
    """The rows of `table` that are the subject's (see the module's description); `opener`
    opens the encrypted columns the search compares (the others stay sealed)."""
    opened = opener or ColumnOpener(None)

    def match(data: pa.Table) -> pa.Array:
        mask = pa.array([False] * data.num_rows, pa.bool_())
        for column in data.column_names:
            values = data[column]
            if opened.sealed(table, column, values) and _compared(profile, table, column, pii):
                values = opened.column(table, column, values)
            hit = _column_hits(profile, table, column, pii, values)
            if hit is not None:
                mask = pc.or_kleene(mask, pc.fill_null(hit, False))
        return mask

    return match


def _compared(profile: Profile, table: str, column: str, pii: dict[str, Kind | None]) -> bool:
    """Whether the search compares `column` (what `_column_hits` looks at)."""
    return bool(profile.keys.get(f"{table}.{column}") or profile.by_column.get(column)
                or (column in pii and pii[column] in profile.identifiers)
                or column in JSON_ROWS)


def _column_hits(profile: Profile, table: str, column: str, pii: dict[str, Kind | None],
                 values: pa.ChunkedArray) -> pa.ChunkedArray | None:
    if pa.types.is_binary(values.type):  # still sealed: no opener (or not a text column)
        return None
    wanted = profile.keys.get(f"{table}.{column}") or profile.by_column.get(column)
    if wanted:
        return pc.is_in(_text(values), pa.array(sorted(wanted)))
    kind = pii.get(column)
    if kind in profile.identifiers and column in pii:
        return pc.is_in(normal_form(kind, values), pa.array(sorted(profile.identifiers[kind])))
    if column in JSON_ROWS:
        return _contains_any(values, [*profile.identifying_needles(),
                                      *_json_keys(profile, table)])
    return None


def _json_keys(profile: Profile, table: str) -> list[str]:
    """A key value as a row's JSON holds it: `"customer_id":15` or `"customer_id":"15"`."""
    found = []
    for target, values in profile.keys.items():
        owner, _, column = target.rpartition(".")
        if owner == table:
            for value in values:
                found += [f'"{column}":{value},', f'"{column}":{value}}}',
                          f'"{column}":"{value}"', f'"{column}": {value},',
                          f'"{column}": "{value}"']
    return found


def _text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    return pc.utf8_trim_whitespace(values)


def normal_form(kind: str | None, values: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column in the normal form `pii_kinds.normalize` gives one value."""
    text = _text(values)
    if kind in ("cpf", "cnpj", "cep"):
        return pc.replace_substring_regex(text, r"[^0-9]", "")
    if kind == "email":
        return pc.utf8_lower(text)
    return text


def _contains_any(values: pa.ChunkedArray, needles: Iterable[str]) -> pa.ChunkedArray:
    text = pc.utf8_lower(_text(values))
    mask = pc.equal(text, text)  # all true where not null
    hits = pc.invert(mask)
    for needle in needles:
        hits = pc.or_(hits, pc.match_substring(text, needle.lower()))
    return hits


def absorb(profile: Profile, table: str, pii: dict[str, Kind | None],
           key_groups: list[set[str]], rows: pa.Table) -> None:
    """Add what the subject's `rows` of `table` hold: identifying values, personal values,
    and key values (shared by every column of the key's group)."""
    for column in JSON_ROWS:
        if column in rows.column_names:
            _absorb_json(profile, pii, rows[column].to_pylist())
    for column, kind in pii.items():
        if column not in rows.column_names or column in JSON_ROWS:
            continue
        for value in _text(rows[column]).to_pylist():
            if not value:
                continue
            profile.values.add(value)
            if kind in IDENTIFYING:
                normal = normalize(kind, value)
                if normal:
                    profile.identifiers.setdefault(kind, set()).add(normal)
    for group in key_groups:
        for column in rows.column_names:
            if f"{table}.{column}" in group:
                found = {v for v in _text(rows[column]).to_pylist() if v}
                for target in group:
                    profile.keys.setdefault(target, set()).update(found)


def _absorb_json(profile: Profile, pii: dict[str, Kind | None], texts: list[object]) -> None:
    """The personal values inside rows kept as JSON (a quarantined row, rescued values)."""
    for text in texts:
        try:
            fields = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            continue
        if not isinstance(fields, dict):
            continue
        for name, value in fields.items():
            kind = pii.get(name, kind_of_name(name))
            if (name in pii or kind is not None) and isinstance(value, str | int) and value != "":
                profile.values.add(str(value))
                if kind in IDENTIFYING:
                    profile.identifiers.setdefault(kind, set()).add(normalize(kind, str(value)))
