"""`query` keeps pyarrow from importing an installed pandas, without hiding pandas from
anything else (a fresh process each: the test process has imported both already)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHILD = """
import sys
from afluente.cli.lean_imports import pandas_hidden_from_pyarrow
with pandas_hidden_from_pyarrow():
    import pyarrow.dataset
    print("after pyarrow.dataset:", "pandas" in sys.modules)
    import pandas
    print("user import:", pandas.__name__)
"""


def test_pyarrow_dataset_loads_without_pandas_and_user_code_still_imports_it() -> None:
    pytest.importorskip("pandas")
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["after pyarrow.dataset: False", "user import: pandas"]
