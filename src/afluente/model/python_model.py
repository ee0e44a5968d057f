"""Load a Python model file and collect the functions its decorators registered."""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

from afluente.errors import Location, ModelError
from afluente.model.decorators import MARKER, PythonModelSpec


def load_specs(file: Path) -> list[PythonModelSpec]:
    """Import `file` in isolation and return its decorated model functions."""
    module = _import(file)
    specs = [
        getattr(value, MARKER)
        for value in vars(module).values()
        if callable(value) and hasattr(value, MARKER)
    ]
    if not specs:
        raise ModelError(
            "no model found in this Python file",
            location=Location(file, 1),
            hint="decorate the function that builds the table with @afluente.table(...)",
        )
    return specs


def _import(file: Path) -> ModuleType:
    name = f"afluente_models.{file.parent.name}.{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ModelError("cannot import this Python model", location=Location(file, 1))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ModelError(
            f"Python syntax error: {exc.msg}",
            location=Location(file, exc.lineno, exc.offset),
        ) from None
    except Exception as exc:
        raise ModelError(
            f"importing the model raised {type(exc).__name__}: {exc}",
            location=Location(file, _failing_line(exc, file)),
            hint="a model file should only define functions; move work into the function",
        ) from exc
    return module


def _failing_line(exc: BaseException, file: Path) -> int | None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == file]
    return frames[-1].lineno if frames else None
