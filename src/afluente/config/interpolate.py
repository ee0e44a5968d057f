"""`${ENV_VAR}` and `${ENV_VAR:-default}` interpolation of string values in config."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from afluente.config.yaml_lines import KeyPath, LocatedYaml
from afluente.errors import ConfigError

_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(
    doc: LocatedYaml,
    env: Mapping[str, str] | None = None,
    *,
    at: KeyPath = (),
    keep_raw: tuple[str, ...] = (),
) -> Any:
    """The value at `at` in `doc` with every `${VAR}` replaced from `env` (default: the
    process env). Top-level keys in `keep_raw` are left as written (an environment's
    secrets are only needed when that environment is chosen)."""
    source = os.environ if env is None else env
    value = doc.data
    for step in at:
        value = value[step]
    if isinstance(value, dict) and keep_raw:
        return {k: v if k in keep_raw else _walk(v, (*at, k), doc, source)
                for k, v in value.items()}
    return _walk(value, at, doc, source)


def _walk(value: Any, path: KeyPath, doc: LocatedYaml, env: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, (*path, k), doc, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, (*path, i), doc, env) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        return _PATTERN.sub(lambda m: _lookup(m, path, doc, env), value)
    return value


def _lookup(match: re.Match[str], path: KeyPath, doc: LocatedYaml, env: Mapping[str, str]) -> str:
    name, default = match.group(1), match.group(2)
    if name in env:
        return env[name]
    if default is not None:
        return default
    raise ConfigError(
        f"environment variable {name} is not set (used by `{'.'.join(map(str, path))}`)",
        location=doc.location(path),
        hint=f"export {name}=... or write ${{{name}:-default}} to give a default",
    )
