"""JSON answers for table values, written as `afluente query --format json` writes them
(`afluente.json_values`)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

from afluente.json_values import to_jsonable


class JsonBody(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=to_jsonable, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
