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
    may see them, never reading the table whole: the engine runs the reader's SELECT (or a
    plain one) with LIMIT and OFFSET; when no row filter applies, the files and row groups
    wholly before `offset` are skipped first (their row counts are in the Parquet footers),
    so a page deep into a large table reads about one row group."""
    columns, visible = visible_scan(dataset.schema)
    listed = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    policy, sql = reader.governed_select(ref, columns)
    if visible is None and policy.row_filter is None and offset > 0:
        dataset, offset = _from_row(dataset, offset)
    engine = project_engine(project)
    try:
        engine.attach_table(ref, dataset if visible is None else dataset.filter(visible))
        select = sql or f'SELECT {listed} FROM "{ref.layer}"."{ref.name}"'
        return engine.query(f"{select} LIMIT {int(limit)} OFFSET {int(offset)}")
    finally:
        engine.close()


def _from_row(dataset: pads.Dataset, offset: int) -> tuple[pads.Dataset, int]:
    """The part of `dataset` from the row group holding row `offset` on (in scan order),
    and that row's offset within it."""
    import pyarrow.dataset as pads

    if not isinstance(dataset, pads.FileSystemDataset):
        return dataset, offset
    fragments = list(dataset.get_fragments())
    for index, fragment in enumerate(fragments):
        rows = fragment.metadata.num_rows
        if rows <= offset:
            offset -= rows
            continue
        groups = fragment.split_by_row_group()
        for at, group in enumerate(groups):
            group_rows = group.row_groups[0].num_rows
            if group_rows > offset:
                kept = groups[at:] + fragments[index + 1:]
                return pads.FileSystemDataset(kept, dataset.schema, dataset.format,
                                              dataset.filesystem), offset
            offset -= group_rows
    return pads.FileSystemDataset([], dataset.schema, dataset.format, dataset.filesystem), 0


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
