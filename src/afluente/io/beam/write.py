"""`WriteToAfluente`: a Beam sink that commits each group of rows (one window, one shard)
to an afluente table in one Delta commit, exactly once (see `bundles.py`)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow

from afluente.io.beam.bundles import BundleWriter, WritePlan, bundle_run_id, check_pipeline_id
from afluente.io.beam.read import ReadFromAfluente
from afluente.io.beam.tables import resolve
from afluente.model import load_graph


class _CommitGroup(beam.DoFn):
    def __init__(self, plan: WritePlan) -> None:
        self.plan = plan
        self.writer: BundleWriter | None = None

    def setup(self) -> None:
        self.writer = BundleWriter(self.plan)

    def process(self, element: tuple[int, Iterable[Mapping[str, Any]]],
                window: Any = beam.DoFn.WindowParam,
                pane: Any = beam.DoFn.PaneInfoParam) -> Iterator[dict[str, Any]]:
        assert self.writer is not None
        shard, rows = element
        label = _window_label(window)
        run_id = bundle_run_id(self.plan.pipeline, self.plan.table, shard, label, pane.index)
        detail = {"shard": shard, "window": label, "pane": pane.index}
        yield {**self.writer.commit(list(rows), run_id, detail), **detail}


def _window_label(window: Any) -> str:
    if isinstance(window, GlobalWindow):
        return "global"
    return f"{window.start.micros}-{window.end.micros}"


class WriteToAfluente(beam.PTransform):
    """Write rows (dicts) to `table` of the project in folder `project`, exactly once.

    The rows are grouped per window and shard (`shards`, by a hash of the row, or of the
    `keys` when merging); each group is one Delta commit whose idempotency key is derived
    from `pipeline`, the table, the shard, the window and the pane: a retried group (or a
    re-run of the same pipeline id) writes nothing twice. Give each logical job its own
    `pipeline` id (e.g. with its date for a daily batch). `keys`: merge (upsert) by these
    columns instead of appending. `inputs`: the `ReadFromAfluente` transforms (or
    `{table: version}`) the pipeline read, recorded with each commit as its lineage.
    A table neither declared by the project nor stored yet is refused (naming the closest
    ones) unless `create=True`.
    The output is one dict per commit: run id, version, rows, already_written.
    """

    def __init__(self, project: str | Path, table: str, *, pipeline: str,
                 keys: Sequence[str] = (), shards: int = 1,
                 inputs: Sequence[ReadFromAfluente] | Mapping[str, int] = (),
                 create: bool = False) -> None:
        super().__init__()
        from afluente.config import load_project

        check_pipeline_id(pipeline)
        loaded = load_project(str(project))
        ref, _ = resolve(loaded, load_graph(loaded), table, writing=True,
                         create=create)  # refuse a wrong name now
        read = (dict(inputs) if isinstance(inputs, Mapping)
                else {r.table: r.version for r in inputs})
        self.plan = WritePlan(str(loaded.root), str(ref), pipeline, tuple(keys), read, create)
        self.shards = max(1, shards)

    def expand(self, rows: Any) -> Any:
        keys, shards = self.plan.keys, self.shards
        return (rows
                | "Shard" >> beam.Map(lambda row: (_shard(row, keys, shards), row))
                | "Group" >> beam.GroupByKey()
                | "Commit" >> beam.ParDo(_CommitGroup(self.plan)))


def _shard(row: Mapping[str, Any], keys: Sequence[str], shards: int) -> int:
    if shards == 1:
        return 0
    basis = [row.get(k) for k in keys] if keys else sorted(row.items())
    return zlib.crc32(repr(basis).encode()) % shards
