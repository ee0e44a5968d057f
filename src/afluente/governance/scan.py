"""Reading one stored table version through the governed reader, for the read paths that
otherwise scan it with Arrow (`show`, `publish`): when the caller sees the table whole the
caller keeps its own Arrow scan; otherwise the engine runs the reader's SELECT (masks and
row filter as SQL) over the same pinned version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from afluente.config import Project
from afluente.engines import project_engine
from afluente.governance.reader import GovernedReader
from afluente.model import TableRef
from afluente.transform import visible_scan

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pads


def governed_table(project: Project, reader: GovernedReader, ref: TableRef,
                   dataset: pads.Dataset, limit: int | None = None) -> pa.Table | None:
    """`dataset` (a version of `ref`) as the caller may see it, its first `limit` rows;
    None when they see it whole (scan it as before)."""
    columns, visible = visible_scan(dataset.schema)  # apply_changes: no bookkeeping rows
    sql = reader.table_sql(ref, columns)
    if sql is None:
        return None
    engine = project_engine(project)
    try:
        engine.attach_table(ref, dataset if visible is None else dataset.filter(visible))
        return engine.query(sql + (f" LIMIT {int(limit)}" if limit is not None else ""))
    finally:
        engine.close()
