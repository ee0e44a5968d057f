"""Apply a model's expectations while it is built, before anything is committed.

The model's SQL is evaluated once, with one failure flag per row rule, into an engine-side
table (DuckDB keeps it compressed and spills it to disk under its memory limit; no Arrow copy
in Python). Counts, samples and quarantined rows are read from that flagged table, and the
kept rows are written from it by the same parallel Parquet writer as any SQL model. Table
rules run on the kept rows. A failed `fail` rule raises before any write, so the table stays
at its previous version.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from afluente.engines import Engine
from afluente.engines.duckdb_engine import qualified
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
from afluente.quality.rules import Expectation, parse_expectations
from afluente.state import Event, EventLevel, StateStore
from afluente.storage import Warehouse

SCRATCH = "__afluente_quality"
FLAGGED = TableRef(SCRATCH, "flagged")  # one at a time: the next model replaces it
KEPT = TableRef(SCRATCH, "kept")


def quarantine_ref(ref: TableRef) -> TableRef:
    return TableRef(ref.layer, f"{ref.name}__quarantine")


def record_results(state: StateStore, run_id: str, model: str,
                   results: list[RuleResult]) -> None:
    """History rows and one event per evaluation (warning when a rule did not pass)."""
    rows = [r.to_row() for r in results]
    state.record_quality(run_id, rows)
    level: EventLevel = "info" if all(r.passed for r in results) else "warning"
    state.emit(Event(type="quality_checked", run_id=run_id, model=model, level=level,
                     payload={"results": rows}))


@dataclass
class QualityStep:
    engine: Engine
    warehouse: Warehouse
    state: StateStore
    run_id: str
    fingerprint: str

    def apply(self, node: Node) -> Node:
        """Check `node`'s output; return a node whose SQL reads the rows to commit."""
        rules = parse_expectations(node.config.expectations, node.location, node.name,
                                   node.config_doc)
        source = self._source(node)
        columns = describe(self.engine, source)
        check_rules(self.engine, rules, columns, source, Target(node.name, node.location))
        row_rules = by_scope(rules, "row")
        flagged_sql = qc.flagged_query(source, row_rules) if row_rules else source
        self.engine.materialize(FLAGGED, flagged_sql, node.location, node.name)
        self.engine.attach_view(KEPT, qc.kept_query(qualified(FLAGGED), row_rules)
                                if row_rules else f"SELECT * FROM {qualified(FLAGGED)}",
                                node.location)
        results = schema_results(by_scope(rules, "schema"), columns, node.name)
        results += row_results(self.engine, qualified(FLAGGED), row_rules, list(columns),
                               node.name)
        results += table_results(self.engine, qualified(KEPT), by_scope(rules, "table"),
                                 node.name)
        record_results(self.state, self.run_id, node.name, results)
        stopped = [r for r in results if r.stops]
        if stopped:
            raise failure_error(stopped, node.location, node.name)
        self._quarantine(node, row_rules, list(columns), results)
        return dataclasses.replace(
            node, language="sql", sql=f"SELECT * FROM {qualified(KEPT)}", function=None
        )

    def release(self) -> None:
        """Free the flagged result once the kept rows are committed."""
        self.engine.release(FLAGGED)

    def _source(self, node: Node) -> str:
        if node.language == "sql":
            assert node.sql is not None
            return node.sql
        assert node.function is not None
        stream = self.engine.run_python(
            node.function, node.upstream, node.keywords, node.location, node.name
        )
        output = TableRef(SCRATCH, "python_output")
        self.engine.attach_table(output, stream.reader.read_all())
        return f"SELECT * FROM {qualified(output)}"

    def _quarantine(self, node: Node, rules: list[Expectation], columns: list[str],
                    results: list[RuleResult]) -> None:
        if not any(r.action == "quarantine" and r.failed for r in results):
            return
        sql = qc.quarantine_query(qualified(FLAGGED), rules, columns, self.run_id)
        stream = self.engine.run_sql(sql, node.location, node.name)
        self.warehouse.append(
            quarantine_ref(node.ref), stream.reader, run_id=self.run_id,
            fingerprint=self.fingerprint, inputs={str(node.ref): "quarantine"}, progress={},
        )
