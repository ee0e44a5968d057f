"""REST APIs (JSON over HTTP) into bronze: auth from the environment, a records path,
pagination, retries and an incremental cursor whose watermark is committed with the rows.

Pages are fetched lazily while the bronze writer consumes the stream, `batch_size` records
at a time, so memory stays bounded whatever the number of pages. The first batch is read in
`read` itself: it fixes the stream's schema (see `to_arrow`) and an incremental source with
no new record returns None, so nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

from afluente.connectors.protocol import IngestContext, Ingestion, IngestStats, SourceCheck
from afluente.connectors.rest.auth import Credentials, missing_env, resolve_credentials
from afluente.connectors.rest.body import parse_json, records_in
from afluente.connectors.rest.config import RestSource
from afluente.connectors.rest.endpoint import Endpoint
from afluente.connectors.rest.fetch import Fetcher, PageRequest
from afluente.connectors.rest.incremental import Watermark
from afluente.connectors.rest.pagination import Page, first_request, walk
from afluente.connectors.rest.to_arrow import infer_schema, to_batch
from afluente.errors import ConnectorError, Location
from afluente.streams import guarded

__all__ = ["RestConnector", "RestSource"]

Chunk = tuple[list[dict[str, Any]], list[str]]


class RestConnector:
    """One endpoint of a JSON HTTP API."""

    config_model = RestSource

    def __init__(self, name: str, config: RestSource, root: Path, location: Location) -> None:
        self.name = name
        self.config = config
        self.location = location

    def check(self, history: Sequence[Mapping[str, Any]]) -> SourceCheck:
        """No request is made: whether an API has new records is only known by reading."""
        missing = missing_env(self.config)
        if missing:
            return SourceCheck(error=f"environment variable `{missing[0]}` not set")
        detail = f"GET {self.config.endpoint_url}"
        if self.config.incremental is not None:
            start = Watermark(self.config.incremental, history).start
            detail += f" since {start}" if start is not None else ""
        return SourceCheck(detail=detail)

    def read(self, context: IngestContext) -> Ingestion | None:
        credentials = resolve_credentials(self.config, self.name, self.location)
        endpoint = Endpoint(
            self.name, self.config.endpoint_url, self.location, credentials.secrets
        )
        watermark = None
        if self.config.incremental is not None:
            watermark = Watermark(self.config.incremental, context.history)
        client = self._client(credentials)
        try:
            fetcher = Fetcher(client, self.config.retry, endpoint, credentials.env_names)
            chunks = self._chunks(fetcher, endpoint, watermark, context)
            first = next(chunks, None)
        except BaseException:
            client.close()
            raise
        if first is None:
            client.close()
            return None
        schema = infer_schema(first[0])
        reader = pa.RecordBatchReader.from_batches(schema, _batches(first, chunks, schema))
        stream = guarded(reader, lambda exc: _translate(exc, endpoint), on_close=client.close)
        since = f" since {watermark.start}" if watermark and watermark.start is not None else ""
        return Ingestion(
            stream=stream,
            mode="append" if watermark else "overwrite",
            progress=watermark.progress if watermark else {},
            summary=f"GET {endpoint.url}{since}",
        )

    def _client(self, credentials: Credentials) -> httpx.Client:
        return httpx.Client(
            headers={"Accept": "application/json", **self.config.headers, **credentials.headers},
            auth=credentials.basic,
            timeout=self.config.timeout,
            follow_redirects=True,
        )

    def _chunks(
        self,
        fetcher: Fetcher,
        endpoint: Endpoint,
        watermark: Watermark | None,
        context: IngestContext,
    ) -> Iterator[Chunk]:
        """New records with their `_source`, `batch_size` at a time, pages read lazily."""
        params = {**self.config.params, **(watermark.params() if watermark else {})}
        first = first_request(self.config.pagination, endpoint.url, params)

        def fetch(request: PageRequest) -> Page:
            return self._page(fetcher, endpoint, request)

        records: list[dict[str, Any]] = []
        sources: list[str] = []
        rows = size = 0
        pages = walk(self.config.pagination, first, fetch, endpoint, self.config.max_pages)
        for page in pages:
            source = f"{endpoint.url}#page={page.request.number}"
            for record in page.records:
                if watermark is None or watermark.admit(record):
                    records.append(record)
                    sources.append(source)
            rows, size = rows + len(page.records), size + page.size
            context.report(IngestStats(rows=rows, bytes=size))
            size_limit = self.config.batch_size
            while len(records) >= size_limit:
                yield records[:size_limit], sources[:size_limit]
                records, sources = records[size_limit:], sources[size_limit:]
        if records:
            yield records, sources

    def _page(self, fetcher: Fetcher, endpoint: Endpoint, request: PageRequest) -> Page:
        response = fetcher.get(request)
        document = parse_json(response, endpoint, request.number)
        return Page(
            request=request,
            url=str(response.url),
            document=document,
            records=records_in(document, self.config.records, endpoint, request.number),
            links=response.links,
            size=len(response.content),
        )


def _batches(first: Chunk, rest: Iterator[Chunk], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    yield to_batch(*first, schema)
    for records, sources in rest:
        yield to_batch(records, sources, schema)


def _translate(exc: Exception, endpoint: Endpoint) -> ConnectorError:
    if isinstance(exc, ConnectorError):
        return exc
    return endpoint.error(
        f"cannot convert the records to Arrow: {endpoint.mask(str(exc))}",
        None,
        hint="report this with a sample of the response; nothing was written",
    )
