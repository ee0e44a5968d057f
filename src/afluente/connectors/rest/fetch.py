"""GET one page, with retries: exponential backoff and jitter on 5xx and network errors,
`Retry-After` honoured on 429 (and 503). A request that still fails, or a 4xx, becomes a
ConnectorError naming the endpoint, the page and the last status."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from afluente.connectors.rest.config import RetryPolicy
from afluente.connectors.rest.endpoint import Endpoint
from afluente.errors import ConnectorError

AUTH_STATUSES = (401, 403)


@dataclass(frozen=True)
class PageRequest:
    """The `number`-th page (1-based) of an endpoint: a URL and its query parameters."""

    url: str
    params: Mapping[str, Any]
    number: int

    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.url, tuple(sorted((k, str(v)) for k, v in self.params.items()))


def backoff_delay(policy: RetryPolicy, attempt: int, jitter: float) -> float:
    """`backoff * 2**(attempt-1)` capped at `max_backoff`, scaled by `jitter` in [0.5, 1]."""
    base = min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1))
    return base * jitter


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Fetcher:
    """Sends page requests through one HTTP client, retrying what is worth retrying."""

    def __init__(
        self,
        client: httpx.Client,
        policy: RetryPolicy,
        endpoint: Endpoint,
        env_names: tuple[str, ...],
    ) -> None:
        self.client = client
        self.policy = policy
        self.endpoint = endpoint
        self.env_names = env_names

    def get(self, request: PageRequest) -> httpx.Response:
        last = ""
        for attempt in range(1, self.policy.attempts + 1):
            delay, last, response = self._attempt(request, attempt)
            if response is not None:
                return self._accepted(response, request)
            if attempt < self.policy.attempts:
                time.sleep(delay)
        raise self.endpoint.error(
            f"failed after {self.policy.attempts} attempt"
            f"{'s' if self.policy.attempts > 1 else ''}; last: {last}",
            request.number,
            hint="the API may be down or overloaded: try again later, or raise "
            "`retry.attempts`; nothing was written",
            transient=True,
        )

    def _attempt(
        self, request: PageRequest, attempt: int
    ) -> tuple[float, str, httpx.Response | None]:
        """(delay before the next attempt, what went wrong, the response if usable)."""
        jitter = 0.5 + random.random() / 2
        try:
            url = httpx.URL(request.url).copy_merge_params(dict(request.params))
            response = self.client.get(url)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise self.endpoint.error(
                f"invalid URL: {exc}", request.number, hint="check `url` and `endpoint`"
            ) from None
        except httpx.TransportError as exc:
            detail = f"network error {type(exc).__name__}: {exc}".rstrip(": ")
            return backoff_delay(self.policy, attempt, jitter), detail, None
        status = response.status_code
        if status != 429 and status < 500:
            return 0.0, "", response
        last = f"HTTP {status} {response.reason_phrase}".strip()
        wait = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
        if wait is None:
            return backoff_delay(self.policy, attempt, jitter), last, None
        if wait > self.policy.max_wait:
            raise self.endpoint.error(
                f"{last}: the server asks to wait {wait:.0f} s (Retry-After), more than "
                f"`retry.max_wait` ({self.policy.max_wait:.0f} s)",
                request.number,
                hint="run again later, or raise `retry.max_wait`; nothing was written",
                transient=True,
            )
        return wait, last, None

    def _accepted(self, response: httpx.Response, request: PageRequest) -> httpx.Response:
        status = response.status_code
        if status < 300:
            return response
        if status in AUTH_STATUSES:
            raise self._auth_error(response, request)
        raise self.endpoint.error(
            f"HTTP {status} {response.reason_phrase}: {self.endpoint.snippet(response.content)}",
            request.number,
            hint="check the source's `url`, `endpoint` and `params`; nothing was written",
        )

    def _auth_error(self, response: httpx.Response, request: PageRequest) -> ConnectorError:
        what = "authentication failed" if response.status_code == 401 else "access denied"
        if self.env_names:
            names = ", ".join(f"`{n}`" for n in self.env_names)
            hint = f"check the credentials in the environment variable(s) {names}"
        else:
            hint = "the API wants credentials: declare `auth:` or `headers_from_env:`"
        return self.endpoint.error(
            f"{what} (HTTP {response.status_code})", request.number, hint=hint
        )
