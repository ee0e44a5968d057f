"""Beam pipelines over an afluente project, run by tests/beam/test_beam_io.py in the Beam
venv (`.venv-beam`: Beam pins pyarrow<26, which the main venv cannot hold).

`python pipelines.py PROJECT` runs every scenario on the DirectRunner and prints one JSON
object (the last line of stdout) with what each saw; the tests assert it and read the Delta
tables back themselves.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

import apache_beam as beam
import pyarrow.compute as pc
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_stream import TestStream
from apache_beam.transforms.window import FixedWindows, TimestampedValue

from afluente.config import load_project
from afluente.errors import AfluenteError
from afluente.io.beam import ReadFromAfluente, WriteToAfluente, bundles
from afluente.model import TableRef
from afluente.storage import Warehouse


class Collected(list):  # type: ignore[type-arg]
    """The elements a pipeline wrote to a file (Beam pickles functions: a list it appends
    to would be a copy); read once the pipeline has finished."""

    def __init__(self) -> None:
        super().__init__()
        handle, self.path = tempfile.mkstemp(suffix=".jsonl")
        os.close(handle)

    def load(self) -> Collected:
        with open(self.path, encoding="utf-8") as lines:
            self.extend(json.loads(line) for line in lines)
        os.unlink(self.path)
        return self


def _append(path: str, element: Any) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(element, default=str) + "\n")


def collect(pcoll: Any, into: Collected) -> None:
    pcoll | beam.Map(lambda element, path=into.path: _append(path, element))


def batch(project: str) -> dict[str, Any]:
    """silver.orders → per-customer totals merged into gold.customer_totals (declared, with
    a contract); 30 rows appended in 3 shards to bronze.events, then read back by file."""
    commits = Collected()
    read = ReadFromAfluente(project, "silver.orders", columns=["customer", "amount"],
                            filter=pc.field("amount") > 0)
    with beam.Pipeline() as p:
        totals = (p | read
                  | beam.Map(lambda r: (r["customer"], r["amount"]))
                  | beam.CombinePerKey(sum)
                  | beam.Map(lambda kv: {"customer": kv[0], "total": kv[1]}))
        collect(totals | WriteToAfluente(project, "gold.customer_totals", pipeline="batch-1",
                                         keys=["customer"], inputs=[read]), commits)
    split = Collected()
    with beam.Pipeline() as p:
        rows = p | beam.Create([{"n": n, "label": f"e{n}"} for n in range(30)])
        collect(rows | WriteToAfluente(project, "bronze.events", pipeline="split-1", shards=3,
                                       create=True), split)
    events = ReadFromAfluente(project, "bronze.events")
    seen = Collected()
    with beam.Pipeline() as p:
        collect(p | events | beam.Map(lambda r: r["n"]), seen)
    return {"commits": commits.load(), "read_version": read.version,
            "split_commits": split.load(), "event_files": len(events.plan.files),
            "events_read": sorted(seen.load())}


def retry(project: str) -> dict[str, Any]:
    """A group that fails after its commit (the pipeline fails), then the same pipeline
    again: the committed group is not written twice. And one group committed twice."""
    original = bundles.BundleWriter.commit
    crashed: list[str] = []

    def commit_then_fail(self: Any, rows: Any, run_id: str, detail: Any) -> Any:
        result = original(self, rows, run_id, detail)
        if not crashed:
            crashed.append(run_id)
            raise RuntimeError(f"worker lost after committing {run_id}")
        return result

    def pipeline(into: Collected) -> None:
        with beam.Pipeline() as p:
            rows = p | beam.Create([{"n": n} for n in range(40)])
            collect(rows | WriteToAfluente(project, "bronze.retried", pipeline="retry-1",
                                           shards=4, create=True), into)

    bundles.BundleWriter.commit = commit_then_fail  # type: ignore[method-assign]
    first = Collected()
    try:
        pipeline(first)
        failure = None
    except Exception as exc:  # the pipeline fails as a lost worker would make it
        failure = str(exc).splitlines()[0]
    finally:
        bundles.BundleWriter.commit = original  # type: ignore[method-assign]
    first.load()  # what the failed attempt emitted before failing: not asserted
    again = Collected()
    pipeline(again)
    plan = bundles.WritePlan(project, "bronze.twice", "twice-1", create=True)
    writer = bundles.BundleWriter(plan)
    twice = [writer.commit([{"n": 1}, {"n": 2}], "beam-twice-1-0001", {"shard": 0})
             for _ in range(2)]
    return {"failure": failure, "crashed_run": crashed[0] if crashed else None,
            "second_run": again.load(), "twice": twice}


def streaming(project: str) -> dict[str, Any]:
    """Order events with event times through 10 s fixed windows into gold.window_totals
    (merged by window and customer), as an unbounded pipeline (TestStream)."""
    events = [(1, "ana", 10.0), (4, "bia", 5.0), (8, "ana", 2.5), (12, "ana", 1.0),
              (15, "bia", 4.0), (27, "caio", 3.0)]
    stream = (TestStream()
              .add_elements([TimestampedValue(e, e[0]) for e in events[:3]])
              .advance_watermark_to(10)
              .add_elements([TimestampedValue(e, e[0]) for e in events[3:5]])
              .advance_watermark_to(20)
              .add_elements([TimestampedValue(e, e[0]) for e in events[5:]])
              .advance_watermark_to_infinity())
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    commits = Collected()
    with beam.Pipeline(options=options) as p:
        totals = (p | stream
                  | beam.WindowInto(FixedWindows(10))
                  | beam.Map(lambda e: (e[1], e[2]))
                  | beam.CombinePerKey(sum)
                  | beam.Map(lambda kv, w=beam.DoFn.WindowParam: {
                      "window_start": int(w.start), "customer": kv[0], "total": kv[1]}))
        collect(totals | WriteToAfluente(project, "gold.window_totals", pipeline="stream-1",
                                         keys=["window_start", "customer"], create=True),
                commits)
    return {"commits": commits.load()}


def bad_input(project: str) -> dict[str, Any]:
    """Each refused write or read: its message, and the table's version before and after."""
    warehouse = Warehouse(load_project(project).warehouse_uri)
    found: dict[str, Any] = {}

    def attempt(name: str, table: str, build: Any) -> None:
        ref = TableRef.parse(table)
        before = warehouse.version(ref) if warehouse.exists(ref) else None
        try:
            build()
            found[name] = {"error": None}
        except AfluenteError as exc:
            found[name] = {"error": str(exc), "type": type(exc).__name__}
        except Exception as exc:  # Beam wraps a worker's error in its own
            found[name] = {"error": str(exc), "type": type(exc).__name__}
        found[name]["before"] = before
        found[name]["after"] = warehouse.version(ref) if warehouse.exists(ref) else None

    def write(table: str, rows: list[dict[str, Any]], **kwargs: Any) -> Any:
        def run() -> None:
            with beam.Pipeline() as p:
                _ = p | beam.Create(rows) | WriteToAfluente(project, table, pipeline="bad",
                                                            **kwargs)
        return run

    attempt("unknown_write", "gold.customer_totals",
            lambda: WriteToAfluente(project, "gold.customer_total", pipeline="bad"))
    attempt("unknown_read", "silver.orders", lambda: ReadFromAfluente(project, "silver.order"))
    attempt("wrong_type", "gold.customer_totals",
            write("gold.customer_totals", [{"customer": "zé", "total": "lots"}]))
    return found


def governed(project: str) -> dict[str, Any]:
    """silver.orders of a project with `governance:` whose role for this OS user redacts
    `customer` and filters the rows: what the workers read."""
    seen = Collected()
    with beam.Pipeline() as p:
        collect(p | ReadFromAfluente(project, "silver.orders"), seen)
    return {"rows": sorted(seen.load(), key=lambda r: r["id"])}


def versions(_project: str) -> dict[str, str]:
    import pyarrow

    return {"apache_beam": beam.__version__, "pyarrow": pyarrow.__version__}


SCENARIOS = {"batch": batch, "retry": retry, "streaming": streaming, "bad_input": bad_input,
             "versions": versions}

if __name__ == "__main__":
    # pipelines.py PROJECT [SCENARIO...] [--governed GOVERNED_PROJECT]
    args = sys.argv[1:]
    other = None
    if "--governed" in args:
        at = args.index("--governed")
        other = args[at + 1]
        del args[at:at + 2]
    root, names = args[0], args[1:] or list(SCENARIOS)
    results = {name: SCENARIOS[name](root) for name in names}
    if other is not None:
        results["governed"] = governed(other)
    sys.stdout.write("\n" + json.dumps(results, default=str) + "\n")
