"""Short commands exit cleanly, every time: 500 `afluente show` calls, in parallel.

`show` is the cheapest command that scans a Delta table through an Arrow dataset, the path
that used to abort at interpreter exit with `terminate called without an active exception`
(see afluente.storage.arrow_dataset): 3 of the 500 calls did before the fix. One is enough
to fail.
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


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "afluente", "-p", str(root), *args],
        capture_output=True, text=True, check=False,
    )


@pytest.mark.slow  # 500 processes of about 0.6-0.9 s of CPU each: minutes on 2 cores
def test_500_short_calls_all_exit_cleanly(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    scaffold(root)
    assert afluente(root, "run").returncode == 0
    expected = afluente(root, "--json", "show", "silver.orders", "-n", "2").stdout
    assert '"order_id": 10' in expected

    workers = max(2, os.cpu_count() or 2) * 2  # overlap one call's start-up with another's I/O
    with ThreadPoolExecutor(workers) as pool:
        calls = list(pool.map(lambda _: afluente(root, "--json", "show", "silver.orders",
                                                 "-n", "2"), range(CALLS)))

    failed = [c for c in calls if c.returncode != 0 or "terminate called" in c.stderr]
    assert not failed, (
        f"{len(failed)} of {CALLS} calls failed; first: exit {failed[0].returncode}, "
        f"stderr {failed[0].stderr[-500:]!r}"
    )
    assert all(c.stdout == expected for c in calls)
