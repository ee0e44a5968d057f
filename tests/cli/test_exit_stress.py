"""Short processes that read a table exit cleanly, every time: 500 of them, in parallel.

Scanning a Delta table through an Arrow dataset and exiting is the path that used to abort
at interpreter exit with `terminate called without an active exception` (see
afluente.storage.arrow_dataset): 3 of 500 `afluente show` calls did before the fix, and about
1 `query` in 250. One is enough to fail. 50 of the calls are the real CLI, `afluente query`
(DuckDB scanning the table's dataset) and `afluente show` (`Dataset.head`) in turn; the other
450 run the same read as `show` (`Warehouse.dataset(...).head`) in a bare interpreter, with
pyarrow loaded as the CLI loads it (without numpy and pandas, `cli/lean_imports.py`): a third
of the CLI's CPU. The bare read on the pre-fix dataset (`DeltaTable.to_pyarrow_dataset()`)
aborted 5 times in 500 (bench/RESULTS.md §15), so the cheap calls still catch the defect.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.runtime import run_project

CALLS = 500
CLI_CALLS = 50
EVERY = CALLS // CLI_CALLS
READ = (
    "import sys\n"
    "from afluente.cli.lean_imports import pyarrow_without_pandas_or_numpy\n"
    "with pyarrow_without_pandas_or_numpy():\n"
    "    from afluente.model import TableRef\n"
    "    from afluente.storage import Warehouse\n"
    "    rows = Warehouse(sys.argv[1]).dataset(TableRef('silver', 'orders')).head(2)\n"
    "print(rows.num_rows)\n"
)
CLI = (
    ("--json", "query", "select order_id from silver.orders order by 1 limit 2"),
    ("--json", "show", "silver.orders", "-n", "2"),
)


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "afluente", "-p", str(root), *args],
        capture_output=True, text=True, check=False,
    )


@pytest.mark.slow  # 500 processes: about 160 s of CPU, 80 s on 2 idle cores
def test_500_short_calls_all_exit_cleanly(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    # built in this process: the calls below are what is tested, not the run
    assert run_project(load_project(root)).status == "success"
    warehouse = str(root / "warehouse")

    def call(index: int) -> subprocess.CompletedProcess[str]:
        if index % EVERY == 0:
            return afluente(root, *CLI[index // EVERY % len(CLI)])
        return subprocess.run([sys.executable, "-c", READ, warehouse],
                              capture_output=True, text=True, check=False)

    workers = max(2, os.cpu_count() or 2) * 2  # overlap one call's start-up with another's I/O
    with ThreadPoolExecutor(workers) as pool:
        calls = list(pool.map(call, range(CALLS)))

    failed = [c for c in calls if c.returncode != 0 or "terminate called" in c.stderr]
    assert not failed, (
        f"{len(failed)} of {CALLS} calls failed; first: exit {failed[0].returncode}, "
        f"stderr {failed[0].stderr[-500:]!r}"
    )
    cli = [(i // EVERY % len(CLI), c.stdout) for i, c in enumerate(calls) if i % EVERY == 0]
    expected = [calls[kind * EVERY].stdout for kind in range(len(CLI))]  # the first of each
    assert expected[0] == '[{"order_id": 10}, {"order_id": 11}]\n'
    assert '"order_id": 10' in expected[1]
    assert len(cli) == CLI_CALLS and all(out == expected[kind] for kind, out in cli)
    read = [c.stdout for i, c in enumerate(calls) if i % EVERY != 0]
    assert all(out == "2\n" for out in read)
