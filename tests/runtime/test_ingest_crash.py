"""Exactly once across crashes: a process killed while ingesting, before or after its commit,
neither loses nor duplicates a file on the next run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from afluente.config import load_project
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse

REF = TableRef("bronze", "events")

# A real `afluente` run in its own process, killed (os._exit, no cleanup) at a chosen moment:
# while the rows stream into the Delta writer, or right after bronze committed.
CRASHING_RUN = textwrap.dedent("""\
    import os, sys
    from afluente.config import load_project
    from afluente.runtime import run_project
    from afluente.runtime.reporter import SilentReporter

    moment = sys.argv[2]

    class Crash(SilentReporter):
        def ingest_progress(self, ref, stats):
            if moment == "before_commit" and (stats.rows > 0 or stats.files > 0):
                os._exit(137)

        def model_finished(self, result):
            if moment == "after_commit" and result.status == "success":
                os._exit(137)

    run_project(load_project(sys.argv[1]), reporter=Crash())
    sys.exit(3)  # not reached: the run must have crashed
""")


def project(root: Path) -> Path:
    (root / "landing").mkdir(parents=True)
    (root / "afluente.yml").write_text(
        "name: crash\nsources:\n  events:\n    type: files\n    path: landing/*.csv\n"
    )
    return root


def land(root: Path, name: str, ids: range) -> None:
    lines = "".join(f"{i},v{i}\n" for i in ids)
    (root / "landing" / name).write_text("id,v\n" + lines)


def crash(root: Path, moment: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, str(root), moment],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 137, done.stderr


def ids(root: Path) -> list[int]:
    table = Warehouse(load_project(root).warehouse_uri).dataset(REF).to_table()
    return sorted(int(v) for v in table.column("id").to_pylist())


def version(root: Path) -> int | None:
    return Warehouse(load_project(root).warehouse_uri).version(REF)


@pytest.mark.parametrize("moment", ["before_commit", "after_commit"])
def test_a_crash_neither_loses_nor_duplicates_files(tmp_path: Path, moment: str) -> None:
    root = project(tmp_path / "p")
    land(root, "a.csv", range(0, 100))
    assert run_project(load_project(root)).status == "success"
    land(root, "b.csv", range(100, 250))

    crash(root, moment)
    if moment == "before_commit":
        assert version(root) == 0  # the batch was never committed
        assert ids(root) == list(range(100))
    else:
        assert version(root) == 1  # committed with its progress, then the process died
        assert ids(root) == list(range(250))

    again = run_project(load_project(root))
    assert again.status == "success"
    assert ids(root) == list(range(250))  # every row exactly once
    assert version(root) == 1
    assert again.models[0].status == ("success" if moment == "before_commit" else "up_to_date")
