"""`ReadFromAfluente`: a Beam source over one pinned version of an afluente table, split by
Delta data file (each file is read by one worker, in parallel)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow.compute as pc

from afluente.io.beam.tables import FileReader, ReadPlan, plan_read


class _ReadFile(beam.DoFn):
    def __init__(self, plan: ReadPlan) -> None:
        self.plan = plan
        self.reader: FileReader | None = None

    def setup(self) -> None:
        self.reader = FileReader(self.plan)

    def process(self, path: str) -> Iterator[dict[str, Any]]:
        assert self.reader is not None
        yield from self.reader.rows(path)


class ReadFromAfluente(beam.PTransform):
    """The rows (dicts) of `table` (`layer.name`) of the project in folder `project`.

    The version is pinned when the pipeline is built (`version=None`: the newest), so every
    worker reads the same snapshot; `.version` holds it (give the transform to
    `WriteToAfluente(inputs=[...])` to record it as the write's input). `columns` and
    `filter` (a `pyarrow.compute` expression) are pushed into the file scans. With
    `governance:` declared, rows are read as the principal the workers run as
    (`AFLUENTE_TOKEN`, else the OS user) may see them: masks, hidden columns, row filters.
    """

    def __init__(self, project: str | Path, table: str, version: int | None = None,
                 columns: Sequence[str] | None = None,
                 filter: pc.Expression | None = None) -> None:
        super().__init__()
        self.plan = plan_read(str(project), table, version,
                              tuple(columns) if columns is not None else None, filter)

    @property
    def table(self) -> str:
        return self.plan.table

    @property
    def version(self) -> int:
        return self.plan.version

    def expand(self, pbegin: Any) -> Any:
        return (pbegin
                | "Files" >> beam.Create(list(self.plan.files))
                | "Spread" >> beam.Reshuffle()
                | "Read" >> beam.ParDo(_ReadFile(self.plan)))
