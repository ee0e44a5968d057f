"""`afluente catalog search`: find tables and columns by name, description or tag."""

from __future__ import annotations

from dataclasses import dataclass

from afluente.catalog.collect import TableFacts


@dataclass(frozen=True)
class Hit:
    table: str
    column: str | None
    field: str  # name | description | tag | owner
    text: str


def search(tables: list[TableFacts], term: str) -> list[Hit]:
    """Case-insensitive substring matches; tables first, then their columns."""
    needle = term.lower()
    hits: list[Hit] = []
    for table in tables:
        hits += _matches(table.name, None, {
            "name": [table.name], "description": [table.description],
            "tag": list(table.tags), "owner": [table.owner]}, needle)
        for column in table.columns:
            hits += _matches(table.name, column["name"], {
                "name": [column["name"]], "description": [column["description"]],
                "tag": list(column["tags"])}, needle)
    return hits


def _matches(table: str, column: str | None, fields: dict[str, list[str]],
             needle: str) -> list[Hit]:
    for name, values in fields.items():
        for value in values:
            if value and needle in value.lower():
                return [Hit(table, column, name, value)]
    return []
