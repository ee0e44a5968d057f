"""The connector protocol: how a source is checked, read and how its progress is kept.

A connector reads one declared source and hands back an `Ingestion`: an Arrow stream of the
source's columns plus `_source` (the file, table or endpoint each row came from), what to do
with the bronze table (`append`, or `overwrite` for a full reload), and the progress to record
(files seen, a cursor watermark...). The runtime stamps the bronze metadata columns, applies
the source's schema policy and writes the rows *and* the progress in one Delta commit, so a
crash can neither lose nor duplicate a batch. The next run gets the recorded progress back
in `IngestContext.history`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from afluente.config import SourceBase
from afluente.errors import Location
from afluente.streams import ResultStream, SourceQuery

SOURCE_COLUMN = "_source"
RESCUED_COLUMN = "_rescued_data"

WriteMode = Literal["append", "overwrite"]


@dataclass(frozen=True)
class IngestStats:
    """Work done so far, for progress bars: files, rows and bytes read."""

    files: int = 0
    rows: int = 0
    bytes: int = 0


def _ignore(stats: IngestStats) -> None:
    return None


@dataclass(frozen=True)
class IngestContext:
    """What a connector gets to read a source.

    `history` is the progress recorded by every commit since the bronze table was last
    overwritten, newest first (empty on the first run and after `--full-refresh`).
    `report` takes cumulative `IngestStats` for the progress bar.
    """

    run_id: str
    ingested_at: datetime
    history: Sequence[Mapping[str, Any]] = ()
    full_refresh: bool = False
    report: Callable[[IngestStats], None] = _ignore

    @property
    def progress(self) -> Mapping[str, Any]:
        """The newest recorded progress ({} when none)."""
        return self.history[0] if self.history else {}


@dataclass
class Ingestion:
    """One batch of a source, to be written to bronze in one commit.

    `stream` yields the source's columns and `_source` (or `query` gives them as DuckDB SQL,
    the faster path for what DuckDB reads itself); a connector that found a record it
    could not parse may also yield `_rescued_data` (JSON text) for it rather than drop it.
    `replace_sources` (append mode) are `_source` values whose earlier rows this batch
    replaces in the same commit (a file that changed). `progress` (JSON-serialisable) is stored
    in the same commit; a callable is called once the stream has been consumed.
    `decimal_comma`: text numbers use `,` for decimals (and `.` for thousands).
    """

    stream: ResultStream | None = None
    mode: WriteMode = "append"
    progress: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)
    replace_sources: tuple[str, ...] = ()
    summary: str = ""
    decimal_comma: bool = False
    query: SourceQuery | None = None

    def __post_init__(self) -> None:
        if (self.stream is None) == (self.query is None):
            raise TypeError("an Ingestion needs exactly one of `stream` and `query`")

    @property
    def progress_known(self) -> bool:
        """False when the progress depends on the rows (a cursor's maximum): the runtime
        then spools the batch before committing, to record both in one commit."""
        return isinstance(self.progress, dict)

    def final_progress(self) -> dict[str, Any]:
        return self.progress if isinstance(self.progress, dict) else self.progress()


@dataclass(frozen=True)
class SourceCheck:
    """A cheap look at the source for `afluente plan`.

    `signature`: equal signatures mean the same data (None: cannot tell without reading).
    `pending`: how many units (files, ...) are new (None: unknown, read to find out).
    """

    signature: str | None = None
    pending: int | None = None
    detail: str = ""
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"signature": self.signature}
        if self.pending is not None:
            found["pending"] = self.pending
        if self.detail:
            found["detail"] = self.detail
        if self.error:
            found["error"] = self.error
        return found


class Connector(Protocol):
    """Reads one declared source as Arrow."""

    def check(self, history: Sequence[Mapping[str, Any]]) -> SourceCheck:
        """What a run would find, given the recorded progress (newest first)."""

    def read(self, context: IngestContext) -> Ingestion | None:
        """The next batch of the source, or None when there is nothing new."""


class ConnectorFactory(Protocol):
    """A connector class: its config model, and a constructor taking the validated config."""

    config_model: type[SourceBase]

    def __call__(
        self, name: str, config: Any, root: Path, location: Location
    ) -> Connector: ...
