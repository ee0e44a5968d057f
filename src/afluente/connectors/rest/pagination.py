"""Walk an endpoint page by page (page number, offset, cursor, Link header or one request),
refusing to loop: a request already made, a page identical to the one before, or more
than `max_pages` pages is an error, so a misbehaving API cannot ingest forever."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from afluente.connectors.rest.body import MISSING, value_at
from afluente.connectors.rest.config import (
    CursorPagination,
    LinkPagination,
    OffsetPagination,
    PagePagination,
    Pagination,
)
from afluente.connectors.rest.endpoint import Endpoint
from afluente.connectors.rest.fetch import PageRequest


@dataclass(frozen=True)
class Page:
    """One page received: its request, the URL answered, the JSON document and records."""

    request: PageRequest
    url: str
    document: Any
    records: list[dict[str, Any]]
    links: Mapping[str | None, Mapping[str, str]]
    size: int

    def digest(self) -> str:
        text = json.dumps(self.records, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def first_request(style: Pagination, url: str, params: Mapping[str, Any]) -> PageRequest:
    if isinstance(style, PagePagination):
        first = {**params, style.param: style.start}
        if style.size_param and style.size:
            first[style.size_param] = style.size
        return PageRequest(url, first, 1)
    if isinstance(style, OffsetPagination):
        return PageRequest(
            url, {**params, style.offset_param: style.start, style.limit_param: style.limit}, 1
        )
    return PageRequest(url, dict(params), 1)


def next_request(style: Pagination, page: Page) -> PageRequest | None:
    """The request for the page after `page`, or None when `page` was the last."""
    request, number = page.request, page.request.number + 1
    if isinstance(style, PagePagination | OffsetPagination) and not page.records:
        return None
    if isinstance(style, PagePagination):
        current = int(request.params[style.param])
        return PageRequest(request.url, {**request.params, style.param: current + 1}, number)
    if isinstance(style, OffsetPagination):
        offset = int(request.params[style.offset_param]) + len(page.records)
        return PageRequest(request.url, {**request.params, style.offset_param: offset}, number)
    if isinstance(style, CursorPagination):
        token = value_at(page.document, style.cursor_path)
        if token is MISSING or token is None or token == "":
            return None
        return PageRequest(request.url, {**request.params, style.param: token}, number)
    if isinstance(style, LinkPagination):
        link = page.links.get("next", {}).get("url")
        return PageRequest(urljoin(page.url, link), {}, number) if link else None
    return None


def walk(
    style: Pagination,
    first: PageRequest,
    fetch: Callable[[PageRequest], Page],
    endpoint: Endpoint,
    max_pages: int,
) -> Iterator[Page]:
    """Every page of the endpoint, in order, fetched lazily as the caller asks for it."""
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    previous: str | None = None
    request: PageRequest | None = first
    while request is not None:
        if request.number > max_pages:
            raise endpoint.error(
                f"more than `max_pages` ({max_pages}) pages",
                request.number,
                hint="raise `max_pages` if the endpoint really has that many pages, or check "
                "the `pagination` settings; nothing was written",
            )
        if request.key() in seen:
            raise _loop(endpoint, request, f"it repeats an earlier request ({_shown(request)})")
        seen.add(request.key())
        page = fetch(request)
        digest = page.digest()
        if page.records and digest == previous:
            why = f"its records are identical to page {request.number - 1}"
            raise _loop(endpoint, request, why)
        previous = digest
        yield page
        request = next_request(style, page)


def _shown(request: PageRequest) -> str:
    query = "&".join(f"{k}={v}" for k, v in request.params.items())
    return request.url + (f"?{query}" if query else "")


def _loop(endpoint: Endpoint, request: PageRequest, why: str) -> Exception:
    return endpoint.error(
        f"pagination loop: {why}",
        request.number,
        hint="check the `pagination` settings (param names, cursor path) against the API's "
        "documentation; nothing was written",
    )
