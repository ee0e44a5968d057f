"""Imports kept out of short commands. pyarrow imports numpy, when it is installed, while it
loads (`pyarrow.lib`), and pandas while `pyarrow.dataset` loads (its pandas shim is asked
about a scalar at import time): together about 0.4 s of CPU that `afluente query` and
`afluente show` never use, more than all their other work on a small table (bench/RESULTS.md
§9, §13, §15). Both commands read Arrow and print Python values; afluente never converts to
or from pandas or numpy there. A project may have both installed for its own reasons
(pyspark brings them)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

#: a package pyarrow would import -> the pyarrow modules during whose loading it is hidden
#: (numpy is asked for by `pyarrow.lib` and again by `pyarrow._compute`, which the others load)
_ARROW_MODULES = ("pyarrow", "pyarrow.dataset", "pyarrow.compute", "pyarrow.parquet", "pyarrow.fs")
_HIDDEN_WHILE = {"numpy": _ARROW_MODULES, "pandas": _ARROW_MODULES}


def _loading(module_name: str) -> bool:
    module = sys.modules.get(module_name)
    return module is not None and bool(getattr(module.__spec__, "_initializing", False))


class _LeanPyarrow(MetaPathFinder):
    """Answers `import numpy` / `import pandas` (those of `hidden`) with ModuleNotFoundError
    while pyarrow's own modules that ask for them are being imported, and only then: user
    code that imports either is not affected."""

    def __init__(self, hidden: frozenset[str] = frozenset(_HIDDEN_WHILE)) -> None:
        self.hidden = hidden

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        package = fullname.split(".")[0]
        loaders = _HIDDEN_WHILE.get(package, ()) if package in self.hidden else ()
        if any(_loading(name) for name in loaders):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


@contextmanager
def pyarrow_without_pandas_or_numpy() -> Iterator[None]:
    """Within: if pyarrow (or `pyarrow.dataset`) gets imported, it is imported without numpy
    (and pandas), and pyarrow records them as absent for the rest of the process
    (`Array.to_numpy`, `Table.to_pandas` then fail). For commands that read Arrow and print
    it (`query`, `show`), never for ones that run user code. A package imported already
    stays as it is."""
    with _hidden_from_pyarrow(_LeanPyarrow()):
        yield


@contextmanager
def pyarrow_without_pandas(when: bool = True) -> Iterator[None]:
    """Within (`when` true): if `pyarrow.dataset` gets imported, it is imported without
    pandas (0.3-0.4 s of CPU), which `Table.to_pandas` then lacks for the rest of the
    process. For `plan` and `validate` (no model's function runs) and a run of a project
    with no Python model, when every engine is DuckDB: their SQL models, connectors and
    writers read and write Arrow only. numpy stays."""
    if not when:
        yield
        return
    with _hidden_from_pyarrow(_LeanPyarrow(frozenset({"pandas"}))):
        yield


@contextmanager
def _hidden_from_pyarrow(finder: _LeanPyarrow) -> Iterator[None]:
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
