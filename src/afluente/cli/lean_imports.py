"""Imports kept out of short commands. pyarrow imports pandas, when it is installed, while
`pyarrow.dataset` loads (its pandas shim is asked about a scalar at import time): 0.35-0.4 s
of CPU that `afluente query` never uses, and more than all its other work on a small table
(bench/RESULTS.md §9, §13). afluente itself never converts to or from pandas; a project may
have pandas installed for its own reasons (pyspark brings it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType


def _loading_pyarrow_dataset() -> bool:
    module = sys.modules.get("pyarrow.dataset")
    return module is not None and bool(getattr(module.__spec__, "_initializing", False))


class _NoPandasForPyarrow(MetaPathFinder):
    """Answers `import pandas` with ModuleNotFoundError while `pyarrow.dataset` is being
    imported, and only then: user code that imports pandas is not affected."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.split(".")[0] == "pandas" and _loading_pyarrow_dataset():
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


@contextmanager
def pandas_hidden_from_pyarrow() -> Iterator[None]:
    """Within: if `pyarrow.dataset` gets imported, it is imported without pandas, and pyarrow
    records pandas as absent for the rest of the process (`Table.to_pandas` then fails). For
    commands that read Arrow and print it (`query`), never for ones that run user code."""
    if "pandas" in sys.modules:
        yield
        return
    finder = _NoPandasForPyarrow()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
