"""Which columns of which tables hold personal data.

A column holds personal data when the project tags it `pii`, when it inherits the tag along
column lineage (a downstream copy or transformation of a tagged column, as the catalog
shows), when it *feeds* a tagged column (the bronze column a silver `cpf` is cleaned from
holds the raw CPF), or when its name says so (`cpf`, `email`, ... in a table already known
to hold personal data). Aggregates and filters do not carry values, so they stop the walk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from afluente.governance.pii_kinds import Kind, kind_of_name
from afluente.lineage import ProjectLineage
from afluente.lineage.propagate import origins
from afluente.model import Graph

PII_TAG = "pii"
#: columns holding a whole row, or the rest of one, as JSON (quarantine, rescued values)
JSON_ROWS = ("_row", "_rescued_data")


def declared_pii(graph: Graph) -> set[str]:
    """`layer.table.column` the model configs tag `pii`."""
    return {f"{ref}.{column}" for ref, node in graph.nodes.items()
            for column, doc in node.config.columns.items() if PII_TAG in doc.tags}


def along_lineage(lineage: ProjectLineage, start: Iterable[str]) -> set[str]:
    """`start` and every column holding its values along column lineage (`origins`: copies
    downstream, the columns they are computed from, and the copies of a sole source); the
    landing zone's `source:...` columns left out."""
    return set(origins(lineage, start))


def pii_columns(graph: Graph, lineage: ProjectLineage, stored: dict[str, list[str]],
                extra: Iterable[str] = ()) -> dict[str, dict[str, Kind | None]]:
    """table → {column: kind (None when unknown)} for every table holding personal data.

    `stored`: table → its stored columns (quarantine tables inherit their model's columns);
    `extra`: more `table.column` to treat as tagged (classification suggestions)."""
    tagged = along_lineage(lineage, {*declared_pii(graph), *extra})
    found: dict[str, dict[str, Kind | None]] = defaultdict(dict)
    for key in tagged:
        table, _, column = key.rpartition(".")
        found[table][column] = kind_of_name(column)
    for table, columns in stored.items():
        model = table.split("__", 1)[0]
        known = found.get(model) or found.get(table)
        if not known:
            continue
        if table != model:  # a quarantine table: the model's row as JSON, and its columns
            found[table].update(known)
        for column in columns:
            if column in known or column in JSON_ROWS or kind_of_name(column) is not None:
                found[table][column] = known.get(column) or kind_of_name(column)
    return {t: c for t, c in found.items() if c}

