"""Errors of the incremental table kinds: bad keys in a source, a bad kind spec.

They derive from the project's families so the executor treats them like any other model
failure (terminal: re-running on the same input fails the same way).
"""

from __future__ import annotations

from afluente.errors import ConfigError, ModelError


class KindSpecError(ConfigError):
    """A merge / apply-changes / snapshot spec names columns the source does not have."""


class DuplicateKeyError(ModelError):
    """A merge source holds more than one row for the same unique key."""


class NullKeyError(ModelError):
    """A source row has a NULL in a key (or sequence) column."""
