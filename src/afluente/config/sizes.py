"""Sizes in configuration: `max_bytes: 64 MiB` (or a plain number of bytes)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
_UNITS = {
    "": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}


def parse_bytes(value: Any) -> int:
    """`1048576`, `512 KiB`, `64 MiB`, `1 GB` as a number of bytes (at least 1)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = _SIZE.match(str(value).lower())
        if match is None or match.group(2) not in _UNITS:
            raise ValueError(f"{value!r} is not a size: write a number of bytes or a number "
                             "and a unit (KiB, MiB, GiB, kB, MB, GB), like `64 MiB`")
        number = int(float(match.group(1)) * _UNITS[match.group(2)])
    if number < 1:
        raise ValueError(f"{value!r} is not a size of at least 1 byte")
    return number


#: a size in bytes, written as a number or with a unit
ByteSize = Annotated[int, BeforeValidator(parse_bytes)]
