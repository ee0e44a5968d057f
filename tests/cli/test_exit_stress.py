"""Short processes that read a table exit cleanly, every time: 500 of them, in parallel.

Scanning a Delta table through an Arrow dataset and exiting is the path that used to abort
at interpreter exit with `terminate called without an active exception` (see
afluente.storage.arrow_dataset): 3 of 500 `afluente show` calls did before the fix. One is
enough to fail. 50 of the calls are the real `afluente show`; the other 450 run the same read
(`Warehouse.dataset(...).head`) in a bare interpreter, which costs half the CPU of the CLI's
start-up, so the 500 fit the suite's time on 2 cores (about 2 minutes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from afluente.cli.scaffold import scaffold

CALLS = 500
CLI_CALLS = 50
READ = (
    "import sys\n"
    "from afluente.model import TableRef\n"
    "from afluente.storage import Warehouse\n"
    "rows = Warehouse(sys.argv[1]).dataset(TableRef('silver', 'orders')).head(2)\n"
    "print(rows.num_rows)\n"
)


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "afluente", "-p", str(root), *args],
        capture_output=True, text=True, check=False,
    )


@pytest.mark.slow  # 500 processes: about 2 minutes on 2 cores
def test_500_short_calls_all_exit_cleanly(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    assert afluente(root, "run").returncode == 0
    expected = afluente(root, "--json", "show", "silver.orders", "-n", "2").stdout
    assert '"order_id": 10' in expected

    warehouse = str(root / "warehouse")

    def call(index: int) -> subprocess.CompletedProcess[str]:
        if index % (CALLS // CLI_CALLS) == 0:
            return afluente(root, "--json", "show", "silver.orders", "-n", "2")
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
    shown = [c.stdout for i, c in enumerate(calls) if i % (CALLS // CLI_CALLS) == 0]
    read = [c.stdout for i, c in enumerate(calls) if i % (CALLS // CLI_CALLS) != 0]
    assert len(shown) == CLI_CALLS and all(out == expected for out in shown)
    assert all(out == "2\n" for out in read)
