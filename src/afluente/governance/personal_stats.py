"""Which columns of a table being created hold personal data, so storage keeps them out
of the table's file statistics from its first commit (`delta.dataSkippingStatsColumns`,
see `afluente.storage.stats_columns`).

The runtime hands a `PersonalColumns` to the run's warehouse; storage asks it only when a
write creates a table, so a run that creates nothing computes nothing. The answer is
`pii_columns`' (the one `forget` erases): tagged, linked to a tagged column by lineage
(downstream or upstream), named for personal data in a table holding some, whole rows as
JSON (`_row`, `_rescued_data`). Lineage is recomputed at each creation with the columns
written so far (a bronze table's columns link to silver's tags only once they exist); a
model whose inputs' columns did not change since the last creation is not parsed again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from afluente.errors import AfluenteError
from afluente.governance.holdings import pii_lineage
from afluente.governance.pii_columns import JSON_ROWS, declared_pii, pii_columns
from afluente.lineage import ModelLineage
from afluente.model import Graph, TableRef
from afluente.storage import Warehouse

log = logging.getLogger("afluente.governance")


class PersonalColumns:
    """`(table, its columns)` → the ones holding personal data (thread-safe: a run's
    workers create tables in parallel)."""

    def __init__(self, graph: Graph, warehouse: Warehouse) -> None:
        self._graph = graph
        self._warehouse = warehouse
        self._tagged = bool(declared_pii(graph))
        self._columns: dict[TableRef, list[str] | None] = {}
        self._memo: dict[tuple[object, ...], ModelLineage] = {}
        self._lock = threading.Lock()

    def __call__(self, ref: TableRef, columns: Sequence[str]) -> set[str]:
        if not self._tagged:  # nothing tagged: nothing can be linked to a tag
            return set()
        with self._lock:
            self._columns[ref] = list(columns)
            try:
                lineage = pii_lineage(self._graph, self._stored, self._memo)
                found = pii_columns(self._graph, lineage, {str(ref): list(columns)})
            except Exception:  # never fail a write over its statistics: the tags at least
                log.warning("%s: personal columns by lineage unknown; keeping the tagged "
                            "ones out of its statistics", ref, exc_info=True)
                model = TableRef(ref.layer, ref.name.split("__", 1)[0])
                tagged = declared_pii(self._graph)
                return {c for c in columns if f"{model}.{c}" in tagged or c in JSON_ROWS}
        return set(found.get(str(ref), {}))

    def _stored(self, ref: TableRef) -> Sequence[str] | None:
        if ref not in self._columns:
            try:
                schema = self._warehouse.schema(ref)
            except AfluenteError:  # damaged: its declared lineage only
                schema = None
            self._columns[ref] = list(schema.names) if schema is not None else None
        return self._columns[ref]
