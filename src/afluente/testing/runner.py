"""Run unit tests: fixtures in, the real engine runs the model in memory, output compared.

Each test gets a fresh in-memory DuckDB. The model's direct upstream tables come from the
test's `given:`; an upstream model the test does not give is computed by its own model from
what the test gives (so constant reference tables need no fixture). A source the test does
not give is an error naming it. The warehouse is only read (for schemas), never written.
One test failing — even its model crashing — never stops the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from afluente.config import Project
from afluente.engines import Engine
from afluente.engines.frames import model_function
from afluente.errors import AfluenteError, EngineError, Location
from afluente.model import Graph, Node, TableRef
from afluente.testing.compare import Diff, compare
from afluente.testing.fixtures import (
    FixtureError,
    infer_type,
    read_fixture,
    typed_table,
    unknown_columns,
)
from afluente.testing.schemas import Schemas, unit_test_engine
from afluente.testing.spec import UnitTest

Status = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class TestResult:
    """The outcome of one test: passed, failed (with a diff) or error (with a message)."""

    __test__ = False

    test: UnitTest
    status: Status
    duration_s: float
    diff: Diff | None = None
    error: AfluenteError | None = None


def run_tests(
    project: Project,
    graph: Graph,
    tests: Iterable[UnitTest],
    on_result: Callable[[TestResult], None] | None = None,
) -> list[TestResult]:
    """Run every test; `on_result` hears each outcome as soon as it is known."""
    schemas = Schemas(project, graph)
    results = []
    try:
        for test in tests:
            result = run_test(project, graph, schemas, test)
            if on_result is not None:
                on_result(result)
            results.append(result)
    finally:
        schemas.close()
    return results


def run_test(project: Project, graph: Graph, schemas: Schemas, test: UnitTest) -> TestResult:
    started = time.monotonic()
    variables = {**project.config.vars, **test.spec.vars}
    engine = unit_test_engine(variables)
    try:
        node = graph[TableRef.parse(test.model)]
        actual = _TestRun(test, graph, schemas, engine).output(node)
        diff = _compare(test, actual, engine)
    except AfluenteError as error:
        return TestResult(test, "error", time.monotonic() - started, error=error)
    except Exception as exc:  # a bug in a model's Python code must not stop the others
        crash = EngineError(f"unexpected {type(exc).__name__}: {exc}", location=test.location)
        return TestResult(test, "error", time.monotonic() - started, error=crash)
    finally:
        engine.close()
    status: Status = "passed" if diff.empty else "failed"
    return TestResult(test, status, time.monotonic() - started, diff=diff)


class _TestRun:
    """Attaches the tables one test needs to its engine, then runs the model."""

    def __init__(self, test: UnitTest, graph: Graph, schemas: Schemas, engine: Engine) -> None:
        self.test = test
        self.graph = graph
        self.schemas = schemas
        self.engine = engine
        self.given = self._given_refs()
        self.attached: set[TableRef] = set()
        self.missing: dict[TableRef, TableRef] = {}  # missing source → the model reading it
        self.used: set[TableRef] = set()

    def output(self, node: Node) -> pa.Table:
        for up in dict.fromkeys(node.upstream):
            self._provide(up, node)
        self._check_inputs(node)
        return self._run(node)

    def _given_refs(self) -> dict[TableRef, str]:
        refs: dict[TableRef, str] = {}
        for text in self.test.spec.given:
            where = self.test.where("given", text)
            try:
                ref = TableRef.parse(text)
            except AfluenteError as exc:
                raise FixtureError(exc.message, location=where, hint=exc.hint) from None
            if ref not in self.graph.nodes:
                raise FixtureError(f"test `{self.test.name}` gives unknown table `{text}`",
                                   location=where, hint=self.graph.suggest(text))
            refs[ref] = text
        return refs

    def _provide(self, ref: TableRef, reader: Node) -> None:
        """Attach `ref`: from the test's rows, or computed by its model from them."""
        if ref in self.attached:
            return
        node = self.graph[ref]
        if ref in self.given:
            self.used.add(ref)
            self.engine.attach_table(ref, self._fixture(ref, reader))
        elif node.language == "source":
            self.missing.setdefault(ref, reader.ref)
            return
        else:
            for up in dict.fromkeys(node.upstream):
                self._provide(up, node)
            if any(up in self.missing for up in node.upstream):
                return
            self.engine.attach_table(ref, self._run(node))
        self.attached.add(ref)

    def _check_inputs(self, node: Node) -> None:
        if self.missing:
            names = ", ".join(f"`{ref}` (read by `{by}`)" for ref, by in self.missing.items())
            example = next(iter(self.missing))
            raise FixtureError(
                f"test `{self.test.name}` of `{node.ref}` does not give {names}",
                location=self.test.where("given"),
                hint=f"add rows under `given:`, e.g. `{example}: [{{...}}]`, or "
                f"`{example}: []` for an empty table",
            )
        unused = [text for ref, text in self.given.items() if ref not in self.used]
        if unused:
            raise FixtureError(
                f"test `{self.test.name}` gives `{unused[0]}`, which `{node.ref}` does not read",
                location=self.test.where("given", unused[0]),
                hint=f"`{node.ref}` reads: {', '.join(str(u) for u in node.upstream)}",
            )

    def _fixture(self, ref: TableRef, reader: Node) -> pa.Table:
        text = self.given[ref]
        where = self.test.where("given", text)
        rows = read_fixture(self.test.spec.given[text], self.test.file.parent, where)
        what = f"test `{self.test.name}`: given table `{ref}`"
        known = self.schemas.known(ref)
        if known is not None:
            unknown_columns(rows, list(known), where, what)
            return typed_table(rows, known, where, what, self.engine)
        stand_in = self.schemas.stand_in(ref, reader)
        hints = self._hints(ref)
        types = {
            name: hints.get(name) or ("VARCHAR" if rows.from_csv else
                                      infer_type([r.get(name) for r in rows.rows]))
            for name in rows.columns
        }
        return typed_table(rows, {**types, **{k: v for k, v in stand_in.items()
                                              if k not in types}}, where, what, self.engine)

    def _hints(self, ref: TableRef) -> dict[str, str]:
        name = self.graph[ref].source_name
        sources = self.schemas.project.config.sources
        return dict(sources[name].columns) if name in sources else {}

    def _run(self, node: Node) -> pa.Table:
        if node.language == "python":
            assert node.function is not None
            stream = self.engine.run_python(model_function(node), node.upstream, node.keywords,
                                            node.location, node.name)
        else:
            assert node.sql is not None
            stream = self.engine.run_sql(node.sql, node.location, node.name)
        try:
            return stream.reader.read_all()
        except Exception:
            if stream.failure and isinstance(stream.failure[0], AfluenteError):
                raise stream.failure[0] from None
            raise


def _compare(test: UnitTest, actual: pa.Table, engine: Engine) -> Diff:
    where = test.where("expect")
    what = f"test `{test.name}`: expected rows of `{test.model}`"
    assert test.spec.expect is not None  # checked when the file was loaded
    rows = read_fixture(test.spec.expect, test.file.parent, where)
    output = engine.column_types(actual.schema)
    unknown_columns(rows, list(output), where, what)
    columns = test.spec.columns or list(rows.columns) or list(output)
    for option in ("columns", "key"):
        names = getattr(test.spec, option) or []
        _check_names(names, list(output), test.where(option), f"test `{test.name}`: `{option}`")
    expected = typed_table(rows, {c: output[c] for c in output if c in columns}, where, what,
                           engine)
    return compare(expected, actual, [c for c in output if c in columns],
                   test.spec.key or (), test.spec.order_matters)


def _check_names(names: list[str], output: list[str], where: Location, what: str) -> None:
    for name in names:
        if name not in output:
            raise FixtureError(f"{what} names `{name}`, which is not an output column",
                               location=where, hint=f"output columns: {', '.join(output)}")
