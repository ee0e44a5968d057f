"""`afluente classify`: suggest `pii` tags from column names and sampled values.

Each stored table's first rows (a sample) are checked column by column: the share of values
that are a CPF or CNPJ with correct check digits, an e-mail, a Brazilian phone, a CEP, a
person's name, and a date of birth (by name and plausible age). A column whose name and
values agree gets a high confidence; values alone a confidence equal to the share that fits;
a name alone (no value fits, or none is stored) one half. Samples are shown masked.
Encrypted columns are sampled opened (`classify` runs as ADMIN).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from afluente.governance.holdings import ProjectView
from afluente.governance.opened_columns import ColumnOpener
from afluente.governance.pii_columns import along_lineage, declared_pii
from afluente.governance.pii_kinds import (
    Kind,
    birth_date_ok,
    kind_of_name,
    kind_of_value,
    masked,
)
from afluente.model import TableRef

THRESHOLD = 0.5
SAMPLES_SHOWN = 3


@dataclass(frozen=True)
class Suggestion:
    """One column that looks like personal data."""

    table: str
    column: str
    kind: Kind
    confidence: float
    matched: int
    sampled: int
    samples: tuple[str, ...]
    reason: str
    tagged: bool  # already tagged `pii` (declared or inherited along lineage)

    @property
    def key(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class Classification:
    suggestions: list[Suggestion]
    inherited: dict[str, list[str]] = field(default_factory=dict)  # new tag → columns it reaches

    @property
    def new(self) -> list[Suggestion]:
        return [s for s in self.suggestions if not s.tagged]


def classify(view: ProjectView, sample_rows: int = 1000) -> Classification:
    """Suggestions for every stored table of the graph, and where new tags would spread."""
    tagged = along_lineage(view.lineage, declared_pii(view.graph))
    found: list[Suggestion] = []
    opener = ColumnOpener.of(view.project)  # encrypted columns are judged by their values
    try:
        for ref in sorted(view.graph.nodes, key=str):
            if str(ref) in view.stored:
                sample = opener.table(str(ref), _sample(view, ref, sample_rows))
                found += classify_table(str(ref), sample, tagged)
    finally:
        opener.close()
    reach = {s.key: sorted(along_lineage(view.lineage, {s.key}) - {s.key} - tagged)
             for s in found if not s.tagged}
    return Classification(found, {k: v for k, v in reach.items() if v})


def _sample(view: ProjectView, ref: TableRef, rows: int) -> pa.Table:
    return view.warehouse.dataset(ref).head(rows)


def classify_table(table: str, data: pa.Table, tagged: set[str]) -> list[Suggestion]:
    found = []
    for column in data.column_names:
        if column.startswith("_"):
            continue  # afluente's own columns (_source, _row_hash, _rescued_data)
        suggestion = _column(table, column, data[column], f"{table}.{column}" in tagged)
        if suggestion is not None:
            found.append(suggestion)
    return found


def _column(table: str, column: str, values: pa.ChunkedArray, tagged: bool
            ) -> Suggestion | None:
    by_name = kind_of_name(column)
    if by_name == "name" and not _about_people(table, column):
        by_name = None  # `name` of a product, a state, a category: the values decide
    present = [v for v in values.to_pylist() if v is not None and v != ""]
    kind, matched, hits = _values_kind(present, by_name)
    share = matched / len(present) if present else 0.0
    if by_name is not None and (kind in (None, by_name)):
        kind = by_name
        confidence = 0.5 + 0.5 * share
        reason = "name and values" if matched else "name"
    elif kind is not None:
        confidence = share * 0.9
        reason = "values"
    else:
        return None
    if confidence < THRESHOLD:
        return None
    return Suggestion(table, column, kind, round(confidence, 2), matched, len(present),
                      tuple(masked(v) for v in hits[:SAMPLES_SHOWN]), reason, tagged)


def _values_kind(values: list[object], by_name: Kind | None
                 ) -> tuple[Kind | None, int, list[object]]:
    """The kind most values have, how many have it, and those values."""
    if by_name == "birth_date":
        hits = [v for v in values if birth_date_ok(v)]
        return "birth_date", len(hits), hits
    if not values or isinstance(values[0], date):
        return None, 0, []
    kinds = Counter(kind_of_value(v) for v in values if isinstance(v, str))
    kinds.pop(None, None)
    if not kinds:
        return None, 0, []
    kind, count = kinds.most_common(1)[0]
    return kind, count, [v for v in values if kind_of_value(v) == kind]


_PEOPLE = ("customer", "client", "person", "people", "user", "employee", "member", "patient",
           "student", "contact", "cliente", "pessoa", "usuario", "funcionario", "paciente",
           "aluno", "contato", "full", "first", "last", "nome")


def _about_people(table: str, column: str) -> bool:
    """A `name` column of a table about people (customers, users, ...), or a column whose
    own name says it is a person's (`full_name`, `nome_completo`)."""
    text = column.lower()
    if text in ("name", "nome"):
        text = table.rpartition(".")[2].lower()
    return any(word in text for word in _PEOPLE)
