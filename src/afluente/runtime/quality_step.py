"""Apply a model's expectations while it is built, before anything is committed.

The model's SQL is evaluated once, with one failure flag per row rule, into an engine-side
table (DuckDB keeps it compressed and spills it to disk under its memory limit; no Arrow copy
in Python). Counts, samples and quarantined rows are read from that flagged table, and the
kept rows are written from it by the same parallel Parquet writer as any SQL model. Table
rules run on the kept rows. A failed `fail` rule raises before any write, so the table stays
at its previous version. Every kind goes through it: a `full` model here, the incremental
kinds inside their build (on the rows they write), a view when it is built. The rejects are
written after the table's commit (afluente.runtime.quarantine).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from afluente.engines import Engine
from afluente.engines.frames import model_function
from afluente.errors import AfluenteError
from afluente.model import Node, TableRef
from afluente.quality import compile as qc
from afluente.quality.evaluate import (
    Target,
    by_scope,
    check_rules,
    describe,
    row_results,
    schema_results,
    table_results,
)
from afluente.quality.results import RuleResult, failure_error
from afluente.quality.row_lineage import LINEAGE_COLUMNS, hidden, with_lineage
from afluente.quality.rules import Expectation, parse_expectations
from afluente.runtime.quarantine import REPLACE_ALL, QuarantineWriter, key_sql
from afluente.sql_text import table as qualified
from afluente.state import Event, EventLevel, StateStore
from afluente.storage import Warehouse

SCRATCH = "__afluente_quality"
FLAGGED = TableRef(SCRATCH, "flagged")  # one at a time: the next model replaces it
KEPT = TableRef(SCRATCH, "kept")


@dataclass(frozen=True)
class QualityTally:
    """What quality did to one build's rows: each row counted once."""

    rows: int  # the rows the model produced in this build (its batch, when incremental)
    quarantined: int
    dropped: int
    duplicates: int  # kept rows a `merge`/`snapshot` folds into another row of the same key
    warnings: int  # `warn` rules that did not pass

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def record_results(state: StateStore, run_id: str, model: str, results: list[RuleResult],
                   tally: QualityTally | None = None) -> None:
    """History rows and one event per evaluation (warning when a rule did not pass)."""
    rows = [r.to_row() for r in results]
    state.record_quality(run_id, rows)
    level: EventLevel = "info" if all(r.passed for r in results) else "warning"
    payload: dict[str, object] = {"results": rows}
    if tally is not None:
        payload["tally"] = tally.to_dict()
    state.emit(Event(type="quality_checked", run_id=run_id, model=model, level=level,
                     payload=payload))


@dataclass
class QualityStep:
    engine: Engine
    warehouse: Warehouse
    state: StateStore
    run_id: str
    fingerprint: str
    tally: QualityTally | None = None
    _rules: list[Expectation] = dataclasses.field(default_factory=list)
    _columns: list[str] = dataclasses.field(default_factory=list)
    _carried: dict[str, str] = dataclasses.field(default_factory=dict)  # lineage -> hidden

    def apply(self, node: Node, where: str | None = None) -> Node:
        """Check `node`'s output (only its rows matching `where`, when given); return a node
        whose SQL reads the rows to commit. A failed `fail` rule raises here, before any
        write."""
        rules = parse_expectations(node.config.expectations, node.location, node.name,
                                   node.config_doc)
        source = self._source(node)
        columns = describe(self.engine, _where(source, where))
        check_rules(self.engine, rules, columns, _where(source, where),
                    Target(node.name, node.location))
        row_rules = by_scope(rules, "row")
        self._rules, self._columns, self._carried = row_rules, list(columns), {}
        if any(r.action == "quarantine" for r in row_rules):
            source = self._with_lineage(source, columns)
        source = _where(source, where)
        flagged_sql = qc.flagged_query(source, row_rules) if row_rules else source
        self.engine.materialize(FLAGGED, flagged_sql, node.location, node.name)
        hidden = list(self._carried.values())
        self.engine.attach_view(KEPT, qc.kept_query(qualified(FLAGGED), row_rules, hidden)
                                if row_rules else f"SELECT * FROM {qualified(FLAGGED)}",
                                node.location)
        results = schema_results(by_scope(rules, "schema"), columns, node.name)
        results += row_results(self.engine, qualified(FLAGGED), row_rules, list(columns),
                               node.name)
        results += table_results(self.engine, qualified(KEPT), by_scope(rules, "table"),
                                 node.name)
        self.tally = self._tally(node, row_rules, results)
        record_results(self.state, self.run_id, node.name, results, self.tally)
        stopped = [r for r in results if r.stops]
        if stopped:
            raise failure_error(stopped, node.location, node.name)
        return dataclasses.replace(
            node, language="sql", sql=f"SELECT * FROM {qualified(KEPT)}", function=None
        )

    @property
    def batch(self) -> str:
        """The relation of the rows the expectations were evaluated on."""
        return qualified(FLAGGED)

    def rejects(self, node: Node, version: int | None) -> list[str]:
        """The query of the rows `quarantine` rules rejected (none without such rules)."""
        if not any(r.action == "quarantine" for r in self._rules):
            return []
        return [qc.quarantine_query(qualified(FLAGGED), self._rules, self._columns,
                                    self.run_id, key_sql(node), version, self._carried)]

    def commit_quarantine(self, node: Node, version: int | None) -> None:
        """After a rebuild's commit: its rejects replace the quarantine in one commit."""
        writer = QuarantineWriter(self.engine, self.warehouse, self.run_id, self.fingerprint)
        writer.commit(node, self.rejects(node, version), REPLACE_ALL)

    def release(self) -> None:
        """Free the flagged result once the kept rows are committed."""
        self.engine.release(FLAGGED)

    def _tally(self, node: Node, rules: list[Expectation],
               results: list[RuleResult]) -> QualityTally:
        warnings = sum(1 for r in results if r.action == "warn" and not r.passed)
        counts = self.engine.query(qc.tally_query(qualified(FLAGGED), rules)).to_pylist()[0]
        rows, held, dropped = (int(v) for v in counts.values())
        return QualityTally(rows, held, dropped, self._duplicates(node), warnings)

    def _duplicates(self, node: Node) -> int:
        config = node.config
        kind = config.table_kind
        keys = kind.key_columns(config) if kind.one_row_per_key else ()
        if not keys:
            return 0
        distinct = ", ".join(qc.quote(k) for k in keys)
        found = self.engine.query(
            f"SELECT count(*) - count(DISTINCT ({distinct})) AS n FROM {qualified(KEPT)}")
        return int(found["n"][0].as_py())

    def _with_lineage(self, source: str, columns: dict[str, str]) -> str:
        """`source` carrying, under hidden names, the bronze lineage columns (file, rescued
        line) of each row that it does not select itself (afluente.quality.row_lineage)."""
        wanted = [c for c in LINEAGE_COLUMNS if c not in columns]
        traced, added = with_lineage(source, self._lineage_columns, wanted)
        carried = {c: hidden(c) for c in added}
        if carried:
            try:  # the rewrite must still bind, to the model's very columns and types
                found = describe(self.engine, traced)
            except AfluenteError:
                found = {}
            if list(found) != [*columns, *carried.values()] or any(
                    found[c] != t for c, t in columns.items()):
                return source
        self._carried = carried
        return traced

    def _lineage_columns(self, schema: str, table: str) -> list[str]:
        name = f"{qc.quote(schema)}.{qc.quote(table)}" if schema else qc.quote(table)
        try:
            found = describe(self.engine, f"SELECT * FROM {name}")
        except AfluenteError:  # not a table the engine has (a table function, ...)
            return []
        return [c for c in LINEAGE_COLUMNS if c in found]

    def _source(self, node: Node) -> str:
        if node.language == "sql":
            assert node.sql is not None
            return node.sql
        assert node.function is not None
        stream = self.engine.run_python(
            model_function(node), node.upstream, node.keywords, node.location, node.name
        )
        output = TableRef(SCRATCH, "python_output")
        self.engine.attach_table(output, stream.reader.read_all())
        return f"SELECT * FROM {qualified(output)}"


def _where(source: str, where: str | None) -> str:
    return source if where is None else f"SELECT * FROM ({source}) AS __afq_all WHERE {where}"


def checked_view_sql(node: Node, source: str) -> str:
    """A view's SQL with the rows its `drop`/`quarantine` rules remove filtered out, so
    every reader of the view sees what a table built from it would hold."""
    rules = by_scope(parse_expectations(node.config.expectations, node.location, node.name),
                     "row")
    if not qc.removing(rules):
        return source
    return qc.kept_query(f"({qc.flagged_query(source, rules)}) AS __afq_flagged", rules)
