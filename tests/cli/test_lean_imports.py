"""`query` and `show` keep pyarrow from importing an installed numpy or pandas, without hiding
them from anything else (a fresh process each: the test process has imported all of them)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHILD = """
import sys
from afluente.cli.lean_imports import pyarrow_without_pandas_or_numpy
with pyarrow_without_pandas_or_numpy():
    import pyarrow.dataset
    print("after pyarrow.dataset:", "numpy" in sys.modules, "pandas" in sys.modules)
    import numpy, pandas
    print("user import:", numpy.__name__, pandas.__name__)
"""


def test_pyarrow_dataset_loads_without_numpy_or_pandas_and_user_code_still_imports_them() -> None:
    pytest.importorskip("pandas")
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["after pyarrow.dataset: False False",
                                        "user import: numpy pandas"]
