"""JSON answers for table values: times as ISO 8601, decimals as strings (exact), bytes as
hex, as `afluente query --format json` writes them."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from fastapi.responses import JSONResponse


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


class JsonBody(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=jsonable, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
