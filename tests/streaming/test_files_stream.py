"""Files as a stream: a `type: files` source with `stream: true` under `afluente stream`,
each micro-batch ingesting the files landed since the last one, exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.connectors.registry import validate_sources
from afluente.errors import ConfigError
from afluente.model import TableRef
from afluente.runtime import RunResult, run_project
from afluente.runtime.stream import parse_trigger, stream_project, with_max_bytes
from afluente.state import StateStore

from .helpers import table

BRONZE, SILVER = TableRef("bronze", "drops"), TableRef("silver", "drops")


def _project(root: Path, extra: str = "    max_files: 2\n") -> Path:
    (root / "landing").mkdir(parents=True)
    (root / "models" / "silver").mkdir(parents=True)
    (root / "afluente.yml").write_text(
        "name: filestream\nsources:\n  drops:\n    type: files\n"
        "    path: landing/*.csv\n    stream: true\n" + extra, encoding="utf-8")
    (root / "models" / "silver" / "drops.sql").write_text(
        "/* @config\nkind: append\n*/\n"
        "SELECT CAST(id AS INTEGER) AS id, _source FROM bronze.drops\n",
        encoding="utf-8")
    return root


def _land(root: Path, name: str, ids: range) -> None:
    """Land a file atomically (written aside, then renamed), as a stream's producer should."""
    aside = root / f".{name}.tmp"
    aside.write_text("id\n" + "".join(f"{i}\n" for i in ids), encoding="utf-8")
    aside.rename(root / "landing" / name)


def test_landed_files_stream_into_bronze_and_silver_exactly_once(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    project = load_project(root)
    stop = threading.Event()
    ingested: list[int] = []

    def land_next(number: int, result: RunResult) -> None:
        ingested.append(sum(m.rows or 0 for m in result.models
                            if m.ref == BRONZE and m.status == "success"))
        if number == 1:  # the folder was empty: nothing yet, no error
            for name, first in (("a.csv", 0), ("b.csv", 10), ("c.csv", 20)):
                _land(root, name, range(first, first + 3))
        elif number == 3:
            _land(root, "d.csv", range(30, 35))
        elif number == 4:
            stop.set()

    outcome = stream_project(project, parse_trigger("0.05s"), stop=stop, on_batch=land_next)
    assert (outcome.batches, outcome.rows, outcome.stopped) == (4, 14, True)
    assert ingested == [0, 6, 3, 5]  # max_files 2: a and b, then c, then d
    counts = Counter(r["_source"] for r in table(root, BRONZE).to_pylist())
    assert counts == {"landing/a.csv": 3, "landing/b.csv": 3, "landing/c.csv": 3,
                      "landing/d.csv": 5}
    assert sorted(r["id"] for r in table(root, SILVER).to_pylist()) == [
        *range(0, 3), *range(10, 13), *range(20, 23), *range(30, 35)]
    with StateStore.open(project.state_url) as state:
        lags = [e.payload["lag"] for e in state.events() if e.type == "stream_progress"]
    assert lags == [{"files": 1}, {"files": 0}, {"files": 0}]

    again = stream_project(project, parse_trigger("available-now"))
    assert (again.batches, again.rows) == (1, 0)


def test_max_bytes_bounds_the_files_of_a_micro_batch(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "    max_bytes: 30\n")
    for name, first in (("a.csv", 0), ("b.csv", 10), ("c.csv", 20)):
        _land(root, name, range(first, first + 3))  # 12 bytes each: two fit in 30
    counts = []
    for _ in range(3):
        run_project(load_project(root))
        counts.append(Counter(r["_source"] for r in table(root, BRONZE).to_pylist()))
    assert counts[0] == {"landing/a.csv": 3, "landing/b.csv": 3}
    assert counts[1] == counts[2] == {"landing/a.csv": 3, "landing/b.csv": 3,
                                      "landing/c.csv": 3}


def test_max_bytes_on_the_command_line_overrides_the_sources(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path / "p"))
    paced = with_max_bytes(project, "2 KiB").config.sources["drops"]
    assert paced.extra["max_bytes"] == 2048
    with pytest.raises(ConfigError, match=r"--max-bytes: 'lots' is not a size: write a number "
                       r"of bytes or a number and a unit"):
        with_max_bytes(project, "lots")


def test_a_snapshot_source_cannot_stream(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "    mode: snapshot\n")
    with pytest.raises(ConfigError, match="need `mode: incremental`"):
        validate_sources(load_project(root))
