"""Rebuild a `full` aggregate model by recomputing only the groups its changed inputs touch.

For a model whose query has a group shape (`model.group_shape`) and whose table was built by
the same definition, the build finds, for every input, the rows that changed since the
version the model last read: the files the input's commits removed (read at that old
version) against the files they added (read now), less the rows found in both (a MERGE
copies the unchanged rows of a file it rewrites). The group keys those rows give — old and
new images, joined with the other inputs as the query joins them — are the touched groups.
The model's query then runs for those groups only (the engine pushes the key filters below
its joins), and the table's new content is its stored rows of every other group plus the
recomputed ones, written like any full build: the same rows a full rebuild writes.

The build falls back to a full rebuild, and its reason says why, when an input is a view or
an apply_changes table, lost its old version, was rewritten whole or changed its columns, or
when the touched groups are half the table or more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pyarrow.dataset as pads

from afluente.engines import Engine
from afluente.errors import AfluenteError
from afluente.model import Graph, Node, TableRef
from afluente.model.group_shape import GroupShape, NotByGroup, by_group
from afluente.storage import CommitInfo, Warehouse
from afluente.storage.file_stats import key_ranges, rows_from_stats

SCRATCH = "__afluente_groups"
WEIGHT = "__afluente_weight"
# its SQL (DuckDB's dialect: EXCLUDE, GROUP BY ALL) is only run on these engines so far
TESTED_ENGINES = frozenset({"duckdb"})
# above this share of a table's groups (of at least SOME_GROUPS), recomputing them costs
# about a full rebuild
MOST_GROUPS, SOME_GROUPS = 0.5, 1000
# an input of SOME_ROWS or more is scanned whole unless a group key's value range skips
# more than half of its files: a refresh that reads as much as a rebuild does not pay
MOST_FILES, SOME_ROWS = 0.5, 100_000


@dataclass(frozen=True)
class Refresh:
    """The SQL of the table's new content, and what the run's reason says of it."""

    sql: str
    reason: str


@dataclass
class GroupRefresh:
    graph: Graph
    engine: Engine
    warehouse: Warehouse
    node: Node
    last: CommitInfo
    stored_version: int
    inputs: Mapping[str, int]  # the version of each input read now
    _scratch: list[TableRef] = field(default_factory=list, init=False)

    def prepare(self) -> Refresh | NotByGroup:
        """The refresh, or why the model is rebuilt whole."""
        shape = by_group(self.node)
        if isinstance(shape, NotByGroup):
            return shape
        if self.engine.name not in TESTED_ENGINES:
            return NotByGroup(f"the refresh by group is not yet tested on `{self.engine.name}`")
        refs = dict.fromkeys(ref for _, ref in shape.tables)
        refused = self._refused_input(refs)
        if refused:
            return NotByGroup(refused)
        largest = self._largest(refs)
        if largest is not None and not shape.key_columns(largest[0]):
            return NotByGroup(f"no group key is a column of `{largest[0]}` ({largest[1]:,} "
                              "rows), its largest input: the touched groups would read all "
                              "of it")
        if largest is not None and not self._can_narrow(shape, largest[0]):
            return NotByGroup(f"every value of its group keys spreads over most files of "
                              f"`{largest[0]}`, its largest input: the touched groups would "
                              "read about all of it")
        changed: dict[TableRef, TableRef] = {}
        described: list[str] = []
        for ref in refs:
            diff = self._changed_rows(ref, _read_columns(shape, ref))
            if isinstance(diff, NotByGroup):
                return diff
            if diff is not None:
                changed[ref], note = diff
                described.append(note)
        if not changed:
            return NotByGroup("its inputs changed no data file")
        return self._refresh(shape, changed, described, largest)

    def _largest(self, refs: Mapping[TableRef, None]) -> tuple[TableRef, int] | None:
        """The input with the most rows (from the log's statistics), when it has at least
        `SOME_ROWS`: the one whose scan a refresh by group must narrow to pay."""
        counted = []
        for ref in refs:
            rows = rows_from_stats(self.warehouse.open(ref, self.inputs[str(ref)]))
            counted.append((ref, rows if rows is not None else SOME_ROWS))
        ref, rows = max(counted, key=lambda pair: pair[1])
        return (ref, rows) if rows >= SOME_ROWS else None

    def _can_narrow(self, shape: GroupShape, ref: TableRef) -> bool:
        """Whether one value of some key column of `ref` lies in at most `MOST_FILES` of its
        files (by the log's statistics): else no set of touched groups narrows its scan."""
        table = self.warehouse.open(ref, self.inputs[str(ref)])
        total = len(table.file_uris())
        for column in shape.key_columns(ref).values():
            files = key_ranges(table, column)
            if files is None or _most_overlapping(list(files.values())) <= MOST_FILES * total:
                return True
        return False

    def _files_read(self, shape: GroupShape, ref: TableRef,
                    ranges: Mapping[str, tuple[object, object]]) -> tuple[int, int]:
        """Of the files of `ref`, how many the touched keys' value ranges can hit (by the
        log's statistics), and how many there are."""
        table = self.warehouse.open(ref, self.inputs[str(ref)])
        total = len(table.file_uris())
        hit = total
        for key, column in shape.key_columns(ref).items():
            files = key_ranges(table, column) if key in ranges else None
            if files is not None:
                low, high = ranges[key]
                hit = min(hit, sum(1 for lo, hi in files.values()
                                   if _overlaps(lo, hi, low, high)))
        return hit, total

    def release(self) -> None:
        """Drop the scratch tables of `prepare` (after the refresh was written)."""
        for ref in self._scratch:
            self.engine.release(ref)
        self._scratch = []

    def _refused_input(self, refs: Mapping[TableRef, None]) -> str | None:
        for ref in refs:
            if ref not in self.graph.nodes:
                return f"it reads `{ref}`, which is not a model of the project"
            node = self.graph[ref]
            if not node.materialized:
                return f"it reads the view `{ref}`"
            if node.table_kind.change_feed:
                return f"it reads the apply_changes table `{ref}`"
        return None

    def _changed_rows(self, ref: TableRef, columns: tuple[str, ...] | None
                      ) -> tuple[TableRef, str] | NotByGroup | None:
        """Scratch table of the rows of `ref` that changed since the model read it (old and
        new images, once each; of `columns`, the ones the query reads, None: all); None
        when no data file changed."""
        since, now = self.last.inputs.get(str(ref)), self.inputs[str(ref)]
        if not isinstance(since, int) or since > now:
            return NotByGroup(f"`{ref}` was not read by the last build")
        if since == now:
            return None
        try:
            old = self.warehouse.dataset(ref, since)
        except AfluenteError:
            return NotByGroup(f"`{ref}` v{since} can no longer be read (log cleaned)")
        new = self.warehouse.dataset(ref, now)
        before, after = set(old.files), set(new.files)
        removed, added = before - after, after - before
        if not removed and not added:
            return None
        if len(before) > 1 and removed == before:  # (a one-file table is small)
            return NotByGroup(f"`{ref}` was rewritten whole since v{since}")
        if old.schema != new.schema:
            return NotByGroup(f"`{ref}` changed its columns since v{since}")
        name = f"{ref.layer}__{ref.name}"
        gone, came = self._attach(f"{name}__gone", old, removed), \
            self._attach(f"{name}__came", new, added)
        rows = TableRef(SCRATCH, f"{name}__changed")
        # a row whose count differs between the removed and the added files changed (a
        # hash aggregate: DuckDB's EXCEPT ALL numbers every row, several times slower)
        picked = "*" if columns is None else ", ".join(_c(c) for c in columns)
        self.engine.materialize(
            rows, f"SELECT * EXCLUDE ({_c(WEIGHT)}) FROM (SELECT {picked}, 1 AS {_c(WEIGHT)} "
                  f"FROM {_q(gone)} UNION ALL SELECT {picked}, -1 FROM {_q(came)}) "
                  f"GROUP BY ALL HAVING sum({_c(WEIGHT)}) <> 0",
            self.node.location, self.node.name)
        self._scratch.append(rows)
        return rows, (f"`{ref}` v{since} → v{now}: {len(removed)} file(s) removed, "
                      f"{len(added)} added")

    def _attach(self, name: str, dataset: pads.Dataset, files: set[str]) -> TableRef:
        """The rows of `files` only, attached as a scratch table."""
        assert isinstance(dataset, pads.FileSystemDataset)
        fragments = [f for f in dataset.get_fragments() if f.path in files]
        ref = TableRef(SCRATCH, name)
        self.engine.attach_table(ref, pads.FileSystemDataset(
            fragments, schema=dataset.schema, format=dataset.format,
            filesystem=dataset.filesystem))
        return ref

    def _refresh(self, shape: GroupShape, changed: Mapping[TableRef, TableRef],
                 described: list[str], largest: tuple[TableRef, int] | None
                 ) -> Refresh | NotByGroup:
        grown: dict[int, str] = {}
        at: dict[int, str] = {}
        for position, (_, ref) in enumerate(shape.tables):
            if ref in changed:
                at[position] = _q(changed[ref])
                grown[position] = _q(self._grown(ref, changed[ref], _read_columns(shape, ref)))
        touched = TableRef(SCRATCH, f"{self.node.ref.layer}__{self.node.ref.name}__touched")
        self.engine.materialize(touched, shape.touched_sql(at, grown), self.node.location,
                                self.node.name)
        self._scratch.append(touched)
        count, nulls, ranges = self._touched_summary(shape, touched)
        stored_ref = TableRef(SCRATCH, f"{self.node.ref.layer}__{self.node.ref.name}__stored")
        stored = self.warehouse.dataset(self.node.ref, self.stored_version)
        total = stored.count_rows()
        if total >= SOME_GROUPS and count >= MOST_GROUPS * total:
            return NotByGroup(f"the changed rows touch {count:,} of its {total:,} groups")
        if largest is not None:
            hit, files = self._files_read(shape, largest[0], ranges)
            if hit > MOST_FILES * files:
                return NotByGroup(f"the touched groups' keys fall in {hit} of the {files} "
                                  f"files of `{largest[0]}`: about a rebuild's reads")
        self.engine.attach_table(stored_ref, stored)
        assert self.node.sql is not None
        types = self.engine.describe_query(self.node.sql)
        sql = shape.refresh_sql(_q(touched), _q(stored_ref), types, ranges, nulls)
        return Refresh(sql, f"groups: recomputed {count:,} touched group(s) of {total:,} "
                            f"({'; '.join(described)})")

    def _grown(self, ref: TableRef, rows: TableRef, columns: tuple[str, ...] | None
               ) -> TableRef:
        """The input now plus its changed rows: holds every row of the old and new version."""
        grown = TableRef(SCRATCH, f"{ref.layer}__{ref.name}__grown")
        picked = "*" if columns is None else ", ".join(_c(c) for c in columns)
        self.engine.attach_view(grown, f"SELECT {picked} FROM {_q(ref)} UNION ALL "
                                       f"SELECT * FROM {_q(rows)}", self.node.location)
        return grown

    def _touched_summary(self, shape: GroupShape, touched: TableRef
                         ) -> tuple[int, set[str], dict[str, tuple[object, object]]]:
        """How many groups, which keys hold NULL, and the (min, max) of plain-column keys."""
        parts = ["count(*) AS n"]
        for index, name in enumerate(shape.key_names):
            parts += [f"bool_or({_c(name)} IS NULL) AS null{index}",
                      f"min({_c(name)}) AS low{index}", f"max({_c(name)}) AS high{index}"]
        row = self.engine.query(f"SELECT {', '.join(parts)} FROM {_q(touched)}").to_pylist()[0]
        nulls: set[str] = set()
        ranges: dict[str, tuple[object, object]] = {}
        for index, name in enumerate(shape.key_names):
            low, high = row[f"low{index}"], row[f"high{index}"]
            if row[f"null{index}"]:
                nulls.add(name)
            if shape.plain_column(name) and type(low) in (int, str, date):  # plain literals
                ranges[name] = (low, high)
        return int(row["n"]), nulls, ranges


def _most_overlapping(ranges: list[tuple[object, object]]) -> int:
    """The largest number of the closed ranges one value falls in."""
    events = sorted([(lo, 0) for lo, _ in ranges] + [(hi, 1) for _, hi in ranges],
                    key=lambda e: (e[0], e[1]))  # a start before an end at the same value
    most = depth = 0
    for _, end in events:
        depth += -1 if end else 1
        most = max(most, depth)
    return most


def _overlaps(lo: object, hi: object, low: object, high: object) -> bool:
    try:
        return not (hi < low or lo > high)  # type: ignore[operator]
    except TypeError:  # values the statistics type differently: assume they overlap
        return True


def _read_columns(shape: GroupShape, ref: TableRef) -> tuple[str, ...] | None:
    """The columns the query reads of `ref` wherever it appears (None: all of them)."""
    read: set[str] = set()
    for alias, table in shape.tables:
        if table == ref:
            columns = shape.columns_of(alias)
            if columns is None:
                return None
            read.update(columns)
    return tuple(sorted(read)) or None


def _q(ref: TableRef) -> str:
    return f"{_c(ref.layer)}.{_c(ref.name)}"


def _c(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
