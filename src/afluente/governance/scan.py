"""Reading one stored table version through the governed reader, for the read paths that
otherwise scan it with Arrow (`show`, `publish`): when the caller sees the table whole the
caller keeps its own Arrow scan; otherwise the engine runs the reader's SELECT (masks and
row filter as SQL) over the same pinned version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def table_page(project: Project, reader: GovernedReader, ref: TableRef,
               dataset: pads.Dataset, limit: int, offset: int = 0) -> pa.Table:
    """Rows `offset` to `offset + limit` of `dataset` (a version of `ref`) as the caller
    may see them: the engine runs the reader's SELECT (or a plain one) with LIMIT and OFFSET,
    so it reads only as far as the page, never the whole table."""
    columns, visible = visible_scan(dataset.schema)
    listed = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    sql = reader.table_sql(ref, columns) or f'SELECT {listed} FROM "{ref.layer}"."{ref.name}"'
    engine = project_engine(project)
    try:
        engine.attach_table(ref, dataset if visible is None else dataset.filter(visible))
        return engine.query(f"{sql} LIMIT {int(limit)} OFFSET {int(offset)}")
    finally:
        engine.close()


def governed_samples(reader: GovernedReader, history: list[dict[str, Any]]
                     ) -> list[dict[str, Any]]:
    """Quality results as `reader` lets its caller see them: failing samples hold table
    values, so a reader without a grant on `afluente.quality_results.sample` sees none
    (docs/governance.md)."""
    if reader.unrestricted:
        return history
    columns = list(history[0]) if history else ["sample"]
    policy = reader.decide(TableRef("afluente", "quality_results"), columns).policy
    if "sample" not in policy.hidden:
        return history
    return [dict(row, sample="[]") for row in history]
