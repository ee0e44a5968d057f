"""Where a database source lives: parsed from `url` or the host/port/user keys, with a masked
form for messages (a password never appears in an error or a log)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

_SCHEMES = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}
_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]+:)[^@\s]*@")


def mask_url(text: str) -> str:
    """`scheme://user:secret@host` → `scheme://user:***@host`, anywhere in `text`."""
    return _PASSWORD_IN_URL.sub(r"\1***@", text)


@dataclass(frozen=True)
class Endpoint:
    """A database server and database, credentials included (never printed)."""

    scheme: str  # postgresql | mysql
    host: str
    port: int
    user: str
    password: str | None
    database: str

    @property
    def where(self) -> str:
        """`user@host:port/database`, for messages."""
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    def url(self) -> str:
        """The URL connectorx reads (`postgresql://` or `mysql://`)."""
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return (
            f"{self.scheme}://{quote(self.user, safe='')}{secret}@{self.host}:{self.port}/"
            f"{quote(self.database, safe='')}"
        )


class ServerKeys(Protocol):
    """The connection keys a database source has (`url`, or host/port/user/...)."""

    @property
    def url(self) -> str | None: ...
    @property
    def host(self) -> str | None: ...
    @property
    def port(self) -> int | None: ...
    @property
    def user(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def database(self) -> str | None: ...


def endpoint_of(config: ServerKeys, scheme: str, default_port: int) -> Endpoint:
    """The endpoint a source's config names; a URL's driver suffix (`+psycopg`) is dropped."""
    if config.url is None:
        assert config.host is not None and config.database is not None
        return Endpoint(
            scheme, config.host, config.port or default_port, config.user or "root",
            config.password, config.database,
        )
    parts = urlsplit(config.url)
    given = parts.scheme.split("+", 1)[0].lower()
    if _SCHEMES.get(given) != scheme:
        raise ValueError(
            f"url scheme `{parts.scheme}` does not fit this source (expected {scheme}://...)"
        )
    return Endpoint(
        scheme=scheme,
        host=parts.hostname or "localhost",
        port=parts.port or default_port,
        user=unquote(parts.username or config.user or ""),
        password=unquote(parts.password) if parts.password else config.password,
        database=unquote(parts.path.lstrip("/")) or (config.database or ""),
    )
