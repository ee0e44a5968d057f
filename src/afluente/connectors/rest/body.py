"""A response body as JSON, and the records in it at a dotted path (`data.items`)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from afluente.connectors.rest.endpoint import Endpoint

MISSING = object()


def value_at(document: Any, path: str) -> Any:
    """The value at a dotted path, or MISSING when a step is absent."""
    current = document
    for step in path.split("."):
        if not isinstance(current, dict) or step not in current:
            return MISSING
        current = current[step]
    return current


def parse_json(response: httpx.Response, endpoint: Endpoint, page: int) -> Any:
    """The body as JSON; an HTML or otherwise unparsable answer is a clear error."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and "json" not in kind and not kind.startswith("text/plain"):
        raise endpoint.error(
            f"the API answered `{kind}`, not JSON: {endpoint.snippet(response.content)}",
            page,
            hint="check `url` and `endpoint` (a login or error page?); nothing was written",
        )
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise endpoint.error(
            f"the response is not valid JSON ({exc}): {endpoint.snippet(response.content)}",
            page,
            hint="check `url` and `endpoint`; nothing was written",
        ) from None


def records_in(
    document: Any, path: str | None, endpoint: Endpoint, page: int
) -> list[dict[str, Any]]:
    """The list of records at `path` (the whole document when None); null means none."""
    found = document if path is None else value_at(document, path)
    if found is MISSING:
        assert path is not None
        raise endpoint.error(
            f"records path `{path}` not found; {_keys_along(document, path)}",
            page,
            hint="set `records:` to the dotted path of the list of records in the response",
        )
    if found is None:
        return []
    if not isinstance(found, list):
        where = f"`{path}`" if path else "the response"
        keys = f" (keys: {', '.join(found)})" if isinstance(found, dict) else ""
        raise endpoint.error(
            f"{where} is a JSON {_kind(found)}{keys}, not a list of records",
            page,
            hint="set `records:` to the dotted path of the list of records in the response",
        )
    for record in found:
        if not isinstance(record, dict):
            raise endpoint.error(
                f"a record is a JSON {_kind(record)}, not an object: "
                f"{endpoint.snippet(json.dumps(record))}",
                page,
                hint="each record must be a JSON object; point `records:` at a list of objects",
            )
    return found


def _keys_along(document: Any, path: str) -> str:
    """Describe where the path stops: the keys present at the last level reached."""
    current: Any = document
    walked: list[str] = []
    for step in path.split("."):
        if not isinstance(current, dict) or step not in current:
            break
        current, walked = current[step], [*walked, step]
    where = f"`{'.'.join(walked)}`" if walked else "the response"
    if isinstance(current, dict):
        return f"keys present in {where}: {', '.join(current) or '(none)'}"
    return f"{where} is a JSON {_kind(current)}"


def _kind(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
