"""The Beam I/O against the same Beam pipelines writing and reading the Delta table with
deltalake directly (issue 14, RESULTS §26). Runs in the Beam venv (`make beam-env`):

    PYTHONPATH=src .venv-beam/bin/python bench/beam_io.py --rows 100000 --pairs 5
    PYTHONPATH=src .venv-beam/bin/python bench/beam_io.py --rows 100000 --pairs 7 --sink-only

Write: `Create(rows)` → WriteToAfluente (one group: staged Parquet, one commit with its app
transaction, the run recorded) against `Create(rows)` → the same grouping → a DoFn calling
`write_deltalake`. Read: ReadFromAfluente (one worker per data file) against the file URIs →
`pyarrow.parquet.read_table` per file, both counting rows. Each side runs on the
DirectRunner, alternating A B A B; times are wall seconds of the whole pipeline. The write
pairs are followed each time by the same pipeline with no sink (Create → group → count):
the DirectRunner's own share.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake

sys.path.insert(0, str(Path(__file__).parent))
from paired_stats import paired_ratio, spread

from afluente.io.beam import ReadFromAfluente, WriteToAfluente
from afluente.io.beam.bundles import BundleWriter, WritePlan


def make_rows(count: int) -> list[dict[str, Any]]:
    return [{"id": i, "customer": f"c{i % 1000}", "amount": (i % 997) / 10.0,
             "ts": 1_700_000_000 + i} for i in range(count)]


class _DeltaWrite(beam.DoFn):  # type: ignore[misc]
    def __init__(self, uri: str) -> None:
        self.uri = uri

    def process(self, element: tuple[int, Any]) -> Any:
        _, rows = element
        write_deltalake(self.uri, pa.Table.from_pylist(list(rows)), mode="append")
        yield 1


def _files(path: str) -> Any:
    yield from pq.read_table(path).to_pylist()


def timed(build: Any) -> float:
    started = time.perf_counter()
    with beam.Pipeline() as p:
        build(p)
    return time.perf_counter() - started


def write_afluente(project: str, rows: list[dict[str, Any]], name: str) -> float:
    return timed(lambda p: p | beam.Create(rows, reshuffle=False)
                 | WriteToAfluente(project, f"bronze.{name}", pipeline=name, create=True))


def write_delta(folder: str, rows: list[dict[str, Any]], name: str) -> float:
    uri = f"{folder}/{name}"
    return timed(lambda p: p | beam.Create(rows, reshuffle=False)
                 | beam.Map(lambda r: (0, r)) | beam.GroupByKey()
                 | beam.ParDo(_DeltaWrite(uri)))


def group_only(rows: list[dict[str, Any]]) -> float:
    """The pipeline both writes share, with no sink: what the DirectRunner itself costs."""
    return timed(lambda p: p | beam.Create(rows, reshuffle=False)
                 | beam.Map(lambda r: (0, r)) | beam.GroupByKey()
                 | beam.Map(lambda kv: len(list(kv[1]))))


def read_afluente(project: str, table: str) -> float:
    return timed(lambda p: p | ReadFromAfluente(project, table)
                 | beam.combiners.Count.Globally())


def read_delta(uri: str) -> float:
    files = DeltaTable(uri).file_uris()
    return timed(lambda p: p | beam.Create(files) | beam.Reshuffle()
                 | beam.FlatMap(_files) | beam.combiners.Count.Globally())


def sink_only(project: str, plain: str, rows: list[dict[str, Any]], pairs: int
              ) -> dict[str, Any]:
    """One group's commit without Beam: `BundleWriter.commit` (dicts → Arrow in the table's
    schema, staged Parquet, commit with its app transaction, the run recorded) against
    `write_deltalake(pa.Table.from_pylist(rows), mode="append")`, A B A B."""
    writer = BundleWriter(WritePlan(project, "bronze.sink", "sink", create=True))
    writer.commit(rows, "beam-sink-warmup", {})
    write_deltalake(f"{plain}/sink", pa.Table.from_pylist(rows), mode="append")
    a: list[float] = []
    b: list[float] = []
    for i in range(pairs):
        started = time.perf_counter()
        write_deltalake(f"{plain}/sink", pa.Table.from_pylist(rows), mode="append")
        a.append(time.perf_counter() - started)
        started = time.perf_counter()
        writer.commit(rows, f"beam-sink-{i}", {})
        b.append(time.perf_counter() - started)
    ratio = paired_ratio(a, b)
    return {"deltalake_s": spread(a).text(3), "afluente_s": spread(b).text(3),
            "deltalake_rows_per_s": round(len(rows) / spread(a).median),
            "afluente_rows_per_s": round(len(rows) / spread(b).median),
            "afluente_over_deltalake": f"{ratio.median:.2f} [{ratio.ci_low:.2f}, "
                                       f"{ratio.ci_high:.2f}]"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--sink-only", action="store_true",
                        help="only one group's commit, without Beam (sink_only)")
    args = parser.parse_args()
    rows = make_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        project, plain = f"{tmp}/project", f"{tmp}/plain"
        os.makedirs(project)
        Path(project, "afluente.yml").write_text("name: beam_bench\n")
        if args.sink_only:
            print(json.dumps({"rows": args.rows, "pairs": args.pairs,
                              "sink": sink_only(project, plain, rows, args.pairs),
                              "load": os.getloadavg()}, indent=2))
            return
        write_afluente(project, rows, "warmup")  # imports and first-use costs
        write_delta(plain, rows, "warmup")
        times: dict[str, list[float]] = {k: [] for k in ("wa", "wd", "g", "ra", "rd")}
        for i in range(args.pairs):
            times["wa"].append(write_afluente(project, rows, f"w{i}"))
            times["wd"].append(write_delta(plain, rows, f"w{i}"))
            times["g"].append(group_only(rows))
        for _ in range(args.pairs):  # the tables written by the first pair, one file each
            times["ra"].append(read_afluente(project, "bronze.w0"))
            times["rd"].append(read_delta(f"{plain}/w0"))
    report = {}
    for what, a, b in (("write", "wd", "wa"), ("read", "rd", "ra")):
        ratio = paired_ratio(times[a], times[b])
        report[what] = {
            "deltalake_s": spread(times[a]).text(3), "afluente_s": spread(times[b]).text(3),
            "deltalake_rows_per_s": round(args.rows / spread(times[a]).median),
            "afluente_rows_per_s": round(args.rows / spread(times[b]).median),
            "afluente_over_deltalake": f"{ratio.median:.2f} [{ratio.ci_low:.2f}, "
                                       f"{ratio.ci_high:.2f}]",
        }
    report["write"]["no_sink_s"] = spread(times["g"]).text(3)
    print(json.dumps({"rows": args.rows, "pairs": args.pairs, "load": os.getloadavg(),
                      **report}, indent=2))


if __name__ == "__main__":
    main()
