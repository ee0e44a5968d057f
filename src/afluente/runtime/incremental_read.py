"""Reading only what is new upstream: the Delta files added since a model last read a table.

An incremental model records in its own commit the versions of the inputs it read
(`afluente.inputs`). Between that version and the current one, an upstream that only
*added* files (appends: ingestions, `append` models) holds its new rows in exactly those
files, so the model reads a dataset over them instead of the whole table. Any removed file
(an overwrite, a merge rewriting files, a delete) means rows changed or vanished: the model
then reads everything, and the plan says why — unless only maintenance removed them
(compaction, Z-order: `dataChange: false`) and the appended files are still apart
(`storage.rewrites`): then those files are still what is new.

Comparing the file lists of two versions was chosen over Delta's change data feed: it needs
no table property on every upstream (ingestion and full models write without CDF), costs
two log replays, and handles partitioned tables and later-added columns through the
dataset delta-rs builds for the newer version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow.dataset as pads

from afluente.errors import AfluenteError
from afluente.model import Graph, TableRef
from afluente.storage import Warehouse

if TYPE_CHECKING:
    from afluente.runtime.planner import Observation


@dataclass(frozen=True)
class UpstreamChange:
    """What one input did since a model last read it."""

    upstream: TableRef
    since: int | None  # the version the model last read; None: never read
    version: int  # the version it reads now
    added: tuple[str, ...] | None  # files added since (relative paths); None: not appends
    why: str = ""  # why the model must read everything

    @property
    def unchanged(self) -> bool:
        """No new rows: the same version, or only commits that add no file and remove none
        or rewrite files keeping their rows (table properties, vacuum, maintenance)."""
        return self.since == self.version or self.added == ()

    @property
    def appends_only(self) -> bool:
        return self.added is not None


def upstream_change(
    warehouse: Warehouse, ref: TableRef, since: int | None, version: int
) -> UpstreamChange:
    """Compare the files of `ref` at `since` and at `version`."""
    if since is None:
        return UpstreamChange(ref, None, version, None, f"`{ref}` was not read before")
    if since == version:
        return UpstreamChange(ref, since, version, ())
    if since > version:
        return UpstreamChange(
            ref, since, version, None, f"`{ref}` went back from v{since} to v{version}"
        )
    try:
        before = set(warehouse.dataset(ref, since).files)
    except AfluenteError:
        return UpstreamChange(
            ref, since, version, None, f"`{ref}` v{since} can no longer be read (log cleaned)"
        )
    now = warehouse.dataset(ref, version).files
    removed = before.difference(now)
    if removed:
        appended = warehouse.appended_across_rewrites(ref, since, version, now)
        if appended is not None:  # maintenance rewrote files: the appends are still apart
            return UpstreamChange(ref, since, version, appended)
        return UpstreamChange(
            ref, since, version, None,
            f"`{ref}` was rewritten or had rows removed since v{since} "
            f"({len(removed)} file(s) removed)",
        )
    return UpstreamChange(ref, since, version, tuple(f for f in now if f not in before))


def new_rows(warehouse: Warehouse, change: UpstreamChange) -> pads.Dataset:
    """A dataset over only the files `change` added (schema and partitions of the table)."""
    assert change.added is not None
    dataset = warehouse.dataset(change.upstream, change.version)
    assert isinstance(dataset, pads.FileSystemDataset)
    wanted = set(change.added)
    fragments = [f for f in dataset.get_fragments() if f.path in wanted]
    return pads.FileSystemDataset(
        fragments, schema=dataset.schema, format=dataset.format, filesystem=dataset.filesystem
    )


def observe_changes(
    graph: Graph,
    selected: set[TableRef],
    seen: Mapping[TableRef, Observation],
    warehouse: Warehouse,
) -> dict[TableRef, dict[str, UpstreamChange]]:
    """For each selected incremental model already built: what each input did since."""
    from afluente.runtime.planner import streamed_inputs

    found: dict[TableRef, dict[str, UpstreamChange]] = {}
    for ref in graph.order:
        last = seen[ref].last if ref in seen else None
        if ref not in selected or last is None or not graph[ref].config.incremental:
            continue
        if graph[ref].language == "source":
            continue
        found[ref] = {}
        for up in streamed_inputs(graph, ref):
            version = seen[up].version if up in seen else None
            if version is not None:
                since = last.inputs.get(str(up))
                found[ref][str(up)] = upstream_change(
                    warehouse, up, since if isinstance(since, int) else None, version
                )
    return found
