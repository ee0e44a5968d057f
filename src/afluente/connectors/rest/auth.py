"""Credentials from environment variables: the project file names the variables, never the
values, and the values are kept so errors can mask them."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from afluente.connectors.rest.config import BasicAuth, BearerAuth, RestSource
from afluente.errors import ConnectorError, Location


@dataclass(frozen=True)
class Credentials:
    """Headers (and basic auth) to send; `env_names` are the variables they came from."""

    headers: dict[str, str]
    basic: httpx.BasicAuth | None
    secrets: tuple[str, ...]
    env_names: tuple[str, ...]


def env_names(config: RestSource) -> tuple[str, ...]:
    """Every environment variable the source reads, in the order it declares them."""
    names = list(config.headers_from_env.values())
    if isinstance(config.auth, BearerAuth):
        names.append(config.auth.token_env)
    elif isinstance(config.auth, BasicAuth):
        names += [config.auth.username_env, config.auth.password_env]
    return tuple(names)


def missing_env(config: RestSource) -> list[str]:
    return [name for name in env_names(config) if not os.environ.get(name)]


def resolve_credentials(config: RestSource, source: str, location: Location) -> Credentials:
    """Read the source's secrets from the environment (ConnectorError naming a missing one)."""
    missing = missing_env(config)
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        raise ConnectorError(
            f"source `{source}`: environment variable{'s' if len(missing) > 1 else ''} "
            f"{listed} not set",
            location=location,
            hint=f"export {missing[0]}=... before the run (the source's credentials are read "
            "from the environment, never from afluente.yml)",
        )
    headers = {header: os.environ[name] for header, name in config.headers_from_env.items()}
    basic = None
    if isinstance(config.auth, BearerAuth):
        headers["Authorization"] = f"Bearer {os.environ[config.auth.token_env]}"
    elif isinstance(config.auth, BasicAuth):
        basic = httpx.BasicAuth(
            os.environ[config.auth.username_env], os.environ[config.auth.password_env]
        )
    secrets = tuple(os.environ[name] for name in env_names(config))
    return Credentials(headers, basic, secrets, env_names(config))
