"""The keys of a `type: rest` source: endpoint, auth, records path, pagination, retries and
the incremental cursor. Secrets are never written here: only the names of the environment
variables that hold them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from afluente.config import SourceBase

Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BearerAuth(_Strict):
    """`Authorization: Bearer <token>`, the token read from `token_env`."""

    type: Literal["bearer"]
    token_env: str


class BasicAuth(_Strict):
    """HTTP basic auth, user and password read from environment variables."""

    type: Literal["basic"]
    username_env: str
    password_env: str


Auth = Annotated[BearerAuth | BasicAuth, Field(discriminator="type")]


class NoPagination(_Strict):
    """One request: the endpoint answers every record at once."""

    style: Literal["none"] = "none"


class PagePagination(_Strict):
    """`?page=1`, `?page=2`, ... until a page has no records."""

    style: Literal["page"]
    param: str = "page"
    start: int = 1
    size_param: str | None = None
    size: int | None = Field(default=None, ge=1)


class OffsetPagination(_Strict):
    """`?offset=0&limit=100`, the offset advanced by the records received, until a page is
    empty."""

    style: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = Field(default=100, ge=1)
    start: int = 0


class CursorPagination(_Strict):
    """The next page's token read from the response at `cursor_path` and sent as `param`;
    stops when the token is missing, null or empty."""

    style: Literal["cursor"]
    cursor_path: str
    param: str = "cursor"


class LinkPagination(_Strict):
    """Follows the `Link: <url>; rel="next"` response header (RFC 8288, was 5988)."""

    style: Literal["link"]


Pagination = Annotated[
    NoPagination | PagePagination | OffsetPagination | CursorPagination | LinkPagination,
    Field(discriminator="style"),
]


class RetryPolicy(_Strict):
    """Retries on 5xx, 429 and network errors: exponential backoff with jitter
    (`backoff * 2**(attempt-1)`, capped at `max_backoff`); a `Retry-After` header is honoured
    up to `max_wait` seconds."""

    attempts: int = Field(default=5, ge=1)
    backoff: float = Field(default=1.0, ge=0)
    max_backoff: float = Field(default=30.0, ge=0)
    max_wait: float = Field(default=120.0, ge=0)


class Incremental(_Strict):
    """Ask only for records changed since the last watermark (sent as `param`); the new
    watermark is the largest `cursor_field` (a dotted path) among the records read."""

    cursor_field: str
    param: str
    initial: Scalar | None = None


class RestSource(SourceBase):
    """A JSON HTTP API endpoint ingested into a bronze table.

    Without `incremental`, each run reads the whole endpoint and replaces the bronze table;
    with it, each run appends the records newer than the recorded watermark.
    """

    type: Literal["rest"]
    url: str
    endpoint: str = ""
    params: dict[str, Scalar] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    headers_from_env: dict[str, str] = Field(default_factory=dict)
    auth: Auth | None = None
    records: str | None = None
    pagination: Pagination = NoPagination()
    incremental: Incremental | None = None
    retry: RetryPolicy = RetryPolicy()
    timeout: float = Field(default=30.0, gt=0)
    batch_size: int = Field(default=10_000, ge=1)
    max_pages: int = Field(default=1_000, ge=1)

    @field_validator("pagination", mode="before")
    @classmethod
    def _style_shorthand(cls, value: Any) -> Any:
        """`pagination: link` is short for `pagination: {style: link}`."""
        return {"style": value} if isinstance(value, str) else value

    @property
    def endpoint_url(self) -> str:
        if not self.endpoint:
            return self.url
        return self.url.rstrip("/") + "/" + self.endpoint.lstrip("/")
