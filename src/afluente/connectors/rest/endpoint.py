"""Where a REST error happened (source, endpoint, page) and how to say it without secrets."""

from __future__ import annotations

from dataclasses import dataclass

from afluente.errors import ConnectorError, Location, TransientConnectorError

SNIPPET_CHARS = 160


@dataclass(frozen=True)
class Endpoint:
    """One source's endpoint, with the secret values its errors must never show."""

    source: str
    url: str
    location: Location
    secrets: tuple[str, ...] = ()

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def snippet(self, body: bytes | str) -> str:
        """The start of a response body on one line, secrets masked."""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        flat = " ".join(text.split())
        cut = flat[:SNIPPET_CHARS] + ("…" if len(flat) > SNIPPET_CHARS else "")
        return self.mask(cut)

    def error(
        self, message: str, page: int | None, hint: str, transient: bool = False
    ) -> ConnectorError:
        at = f"GET {self.url}" + (f" (page {page})" if page is not None else "")
        kind = TransientConnectorError if transient else ConnectorError
        return kind(
            self.mask(f"source `{self.source}`: {at}: {message}"),
            location=self.location,
            hint=self.mask(hint),
        )
