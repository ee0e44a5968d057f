"""Paging a table's rows at a version or a time: a page is LIMIT/OFFSET pushed into the
engine over that pinned version (through the governed reader), and `next_cursor` carries
the version and the next offset so the following pages read the same version."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from afluente.config import Project
from afluente.errors import StorageError
from afluente.governance.reader import GovernedReader
from afluente.model import TableRef
from afluente.server.problems import ApiError, NotFound


@dataclass(frozen=True)
class PageRequest:
    version: int | None
    as_of: str | None
    offset: int
    limit: int


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(version, offset) from a `next_cursor`."""
    try:
        said = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=="))
        return int(said["v"]), int(said["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(f"cursor {cursor!r} was not made by this API",
                       hint="pass the `next_cursor` of the previous page unchanged") from None


def encode_cursor(version: int, offset: int) -> str:
    raw = json.dumps({"v": version, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def open_version(project: Project, ref: TableRef, version: int | None, as_of: str | None
                 ) -> Any:
    """The Delta table at `version` / `as_of` (latest by default); a version or time the
    table never had is a 404 with the CLI's message and the versions it has."""
    from afluente.storage import Warehouse

    try:
        return Warehouse(project.warehouse_uri).open(ref, version=version, as_of=as_of)
    except StorageError as error:
        if "has no version" in error.message or "did not exist as of" in error.message or \
                "has not been built" in error.message:
            raise NotFound(error.message, hint=error.hint, table=str(ref)) from None
        raise


def read_page(project: Project, reader: GovernedReader, ref: TableRef, wanted: PageRequest
              ) -> dict[str, Any]:
    from afluente.engines.query_rows import QueryRows
    from afluente.governance.scan import table_page
    from afluente.storage import Warehouse

    delta = open_version(project, ref, wanted.version, wanted.as_of)
    dataset = Warehouse(project.warehouse_uri).readable(ref, delta)
    data = table_page(project, reader, ref, dataset, wanted.limit, wanted.offset)
    version = delta.version()
    more = data.num_rows == wanted.limit
    return {
        "table": str(ref), "version": version, "offset": wanted.offset, "limit": wanted.limit,
        "columns": [{"name": f.name, "type": str(f.type)} for f in data.schema],
        "rows": QueryRows.of_arrow(data).records(),
        "next_cursor": encode_cursor(version, wanted.offset + data.num_rows) if more else None,
    }
