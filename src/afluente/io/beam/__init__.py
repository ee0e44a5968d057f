"""Apache Beam I/O: `ReadFromAfluente` and `WriteToAfluente` (docs/streaming.md, "Apache
Beam"). Needs the `beam` extra: `pip install 'afluente[beam]'`.

Only `read.py` and `write.py` import Beam, when one of the two transforms is first asked
for; `tables.py` and `bundles.py` (the afluente side) import without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from afluente.errors import ConnectorError

if TYPE_CHECKING:
    from afluente.io.beam.read import ReadFromAfluente
    from afluente.io.beam.write import WriteToAfluente

_TRANSFORMS = {"ReadFromAfluente": "afluente.io.beam.read",
               "WriteToAfluente": "afluente.io.beam.write"}


def __getattr__(name: str) -> Any:
    module = _TRANSFORMS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("apache_beam"):
            raise
        raise ConnectorError(
            f"the Apache Beam I/O needs apache-beam ({exc})",
            hint="pip install 'afluente[beam]' (Beam pins pyarrow<26: give it a venv of "
            "its own)") from None


__all__ = ["ReadFromAfluente", "WriteToAfluente"]
