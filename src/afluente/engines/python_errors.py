"""A Python model's own exception as an `EngineError` at the line of the model file that
raised it, whatever engine called the model."""

from __future__ import annotations

import traceback
from pathlib import Path

from afluente.errors import EngineError, Location


def python_model_error(
    exc: BaseException, origin: Location, table: str, message: str, inputs_note: str = ""
) -> EngineError:
    """`message` is the exception as the engine words it; `inputs_note` says what the
    model's inputs are on this engine (empty when they need no mention)."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == Path(origin.file)
    ]
    line = frames[-1].lineno if frames else origin.line
    inputs = f" ({inputs_note})" if inputs_note else ""
    return EngineError(
        f"Python model raised {type(exc).__name__}: {message}",
        location=Location(origin.file, line),
        table=table,
        hint=f"fix the model function{inputs}; the table keeps its previous version",
    )
