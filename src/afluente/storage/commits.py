"""What afluente records in each Delta commit, and how it reads it back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deltalake import Transaction

RUN_ID = "afluente.run_id"
FINGERPRINT = "afluente.fingerprint"
INPUTS = "afluente.inputs"
MODEL = "afluente.model"
ROWS = "afluente.rows"
PROGRESS = "afluente.progress"
#: on a commit that rewrote files without changing data (maintenance): the version whose
#: data it holds, so a model that read that version is still up to date
DATA_VERSION = "afluente.data_version"
#: the request id of an erasure (`afluente forget`) on the commit that erased the rows
ERASURE = "afluente.erasure"
COMPLETE = "complete"  # a progress that sums up every earlier one (older ones may be dropped)
# a progress's source positions kept as Delta app transactions too ({app id: version}): a
# stream's offsets per partition, readable with `DeltaTable.transaction_version(app_id)`
TRANSACTIONS = "transactions"


def app_id(run_id: str) -> str:
    """The Delta app-transaction id that makes a run's write to a table happen once."""
    return f"afluente:{run_id}"


def commit_transactions(run_id: str, progress: dict[str, Any] | None) -> list[Transaction]:
    """The app transactions of a commit: the run's, plus the source positions its progress
    names under `transactions` (committed with the rows, atomically)."""
    found = [Transaction(app_id=app_id(run_id), version=1)]
    positions = (progress or {}).get(TRANSACTIONS) or {}
    found += [Transaction(app_id=str(k), version=int(v)) for k, v in sorted(positions.items())]
    return found


@dataclass(frozen=True)
class CommitInfo:
    """One version of a Delta table, as `afluente history` shows it."""

    version: int
    timestamp: datetime
    operation: str
    rows_added: int | None
    run_id: str | None = None
    fingerprint: str | None = None
    model: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] | None = None
    overwrite: bool = False
    data_version: int | None = None  # the version whose data this one holds (maintenance)

    @classmethod
    def from_history(cls, entry: dict[str, Any]) -> CommitInfo:
        metrics = entry.get("operationMetrics") or {}
        inputs = entry.get(INPUTS)
        progress = entry.get(PROGRESS)
        params = entry.get("operationParameters") or {}
        mode = str(params.get("mode", ""))
        return cls(
            version=int(entry["version"]),
            timestamp=datetime.fromtimestamp(entry["timestamp"] / 1000, tz=UTC),
            operation=str(entry.get("operation", "")),
            rows_added=metrics.get("num_added_rows", _int(entry.get(ROWS))),
            run_id=entry.get(RUN_ID),
            fingerprint=entry.get(FINGERPRINT),
            model=entry.get(MODEL),
            inputs=json.loads(inputs) if isinstance(inputs, str) else dict(inputs or {}),
            progress=json.loads(progress) if isinstance(progress, str) else progress,
            overwrite=(mode.lower() == "overwrite" and not params.get("predicate"))
            or entry.get("operation") in ("CREATE TABLE", "CREATE OR REPLACE TABLE"),
            data_version=_int(entry.get(DATA_VERSION)),
        )


def commit_metadata(
    run_id: str,
    model: str,
    fingerprint: str,
    inputs: dict[str, Any],
    rows: int | None = None,
    progress: dict[str, Any] | None = None,
) -> dict[str, str]:
    metadata = {
        RUN_ID: run_id,
        MODEL: model,
        FINGERPRINT: fingerprint,
        INPUTS: json.dumps(inputs, sort_keys=True),
    }
    if progress is not None:
        metadata[PROGRESS] = json.dumps(progress, sort_keys=True, default=str)
    if rows is not None:  # commits of staged files carry no operation metrics
        metadata[ROWS] = str(rows)
    return metadata


@dataclass(frozen=True)
class CommitDescription:
    """What a caller says about a commit it asks storage to make: the run, the model, its
    fingerprint and the versions of the inputs it read. Storage turns it into the commit's
    metadata and the run's app transaction (`commit_metadata`, `app_id`)."""

    run_id: str
    model: str
    fingerprint: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] | None = None  # e.g. a stream's newest event time

    def metadata(self) -> dict[str, str]:
        return commit_metadata(self.run_id, self.model, self.fingerprint, dict(self.inputs),
                               progress=self.progress)


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None
