"""One root exception family for afluente.

Every error afluente raises on purpose derives from :class:`AfluenteError`. Each carries
where it happened (file, line, column, table, run id) and a hint that tells the user what
to do next. Errors are marked *transient* (worth retrying: network, commit conflicts) or
*terminal* (bad config, bad SQL); the executor decides retries from that mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where in a project file something happened (1-based line and column)."""

    file: Path | str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = str(self.file)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


class AfluenteError(Exception):
    """Root of every error afluente raises on purpose."""

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        table: str | None = None,
        run_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.location = location
        self.table = table
        self.run_id = run_id
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """The one-line (plus hint) form the CLI prints."""
        prefix = f"{self.location}: " if self.location else ""
        table = f"[{self.table}] " if self.table and self.table not in self.message else ""
        text = f"{prefix}{table}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ConfigError(AfluenteError):
    """`afluente.yml` or a model header is invalid."""


class ModelError(AfluenteError):
    """A model cannot be parsed, or the graph of models is invalid."""


class SelectorError(ModelError):
    """A `--select` expression is invalid or matches nothing."""


class EngineError(AfluenteError):
    """The compute engine failed to run a model."""


class FeatureError(EngineError):
    """A training set cannot be joined from its label and feature tables (a key or time
    column missing or mistyped)."""


class ForecastError(EngineError):
    """A time series cannot be forecast (too short for its season, not a number series)."""


class ConnectorError(AfluenteError):
    """A source could not be read."""


class TransientConnectorError(ConnectorError):
    """A source failed in a way worth retrying (network, 429/503)."""

    transient = True


class StorageError(AfluenteError):
    """A Delta table could not be read or written."""


class CommitConflictError(StorageError):
    """Another writer committed first; retrying is safe."""

    transient = True


class TableNotFoundError(StorageError):
    """A table has never been written."""


class DamagedTableError(StorageError):
    """A table's Delta log or a data file its current version references is unreadable or
    missing; `afluente repair` rebuilds or restores it."""


class StateError(AfluenteError):
    """The state store (runs, events) failed."""


class LockTimeoutError(StateError):
    """Another live run (or scheduler, or backfill) holds a lock this one needs."""


class RunError(AfluenteError):
    """A run finished with failed models."""


class ModelTimeoutError(RunError):
    """A model ran longer than its `timeout`; its query was interrupted, nothing committed."""


class DemoError(AfluenteError):
    """The demo could not be generated or built."""


class AuditError(AfluenteError):
    """The audit log is unreadable or its hash chain is broken (an entry changed, removed or
    reordered)."""


class ErasureError(AfluenteError):
    """An erasure request (`afluente forget`) could not be carried out; nothing was changed
    unless the message says otherwise."""


class EncryptionKeyError(AfluenteError):
    """A key for column encryption is missing, wrong or cannot be used; the message names
    the key (its id and source). Raised before anything is written."""


class DataEnvironmentError(AfluenteError):
    """A data environment (`afluente plan --env NAME`) could not be created, built,
    promoted or rolled back; raised before anything is written."""


class StaleEnvironmentError(DataEnvironmentError):
    """The base environment moved since the environment was planned: re-plan it."""
