"""Delete the rows of a table older than a cutoff (a retention period), in one commit.

The predicate compares the retention column with the cutoff — a date, never a value of
the rows — so the commit's `operationParameters.predicate` holds no personal data. The
commit carries the table's last afluente metadata (model, fingerprint, inputs, progress):
the model's own next run sees it as up to date and does not rebuild the deleted rows back,
while the tables downstream see a new version and follow. The deleted rows' data files stay
for time travel until the table is vacuumed, like any Delta delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import DeltaError

from afluente.errors import StorageError
from afluente.sql_text import ident
from afluente.storage.arrow_dataset import delta_dataset
from afluente.storage.commits import FINGERPRINT, INPUTS, MODEL, PROGRESS

OPERATION = "afluente.operation"
CARRIED = (MODEL, FINGERPRINT, INPUTS, PROGRESS)


@dataclass(frozen=True)
class Retained:
    """What one retention pass did to a table: rows deleted, and the version it made
    (None: no row was old enough, nothing was committed)."""

    rows_deleted: int
    version: int | None


def delete_older(uri: str, column: str, cutoff: datetime, label: str,
                 storage_options: dict[str, str] | None = None) -> Retained:
    """Delete the rows whose `column` is before `cutoff` (UTC); no commit when none is."""
    try:
        table = DeltaTable(uri, storage_options=storage_options)
        schema = pa.schema(table.schema().to_arrow())
        if column not in schema.names:
            raise StorageError(f"`{label}` has no column `{column}` to apply its retention on "
                               f"(it has {', '.join(schema.names)})", table=label,
                               hint="set `retention_column:` to a date or timestamp column")
        kind = schema.field(column).type
        bound, literal = _bound(kind, cutoff, label, column)
        older = pc.field(column) < pa.scalar(bound, type=kind)
        if not delta_dataset(table, storage_options).count_rows(filter=older):
            return Retained(0, None)
        metadata = {k: v for k, v in (table.history(1)[0] or {}).items()
                    if k in CARRIED and isinstance(v, str)}
        metrics = table.delete(f"{ident(column)} < '{literal}'", commit_properties=(
            CommitProperties(custom_metadata={**metadata, OPERATION: "retention"})))
        return Retained(int(metrics.get("num_deleted_rows") or 0), table.version())
    except (DeltaError, OSError) as exc:
        raise StorageError(f"deleting the rows of `{label}` older than {cutoff:%Y-%m-%d} "
                           f"failed: {exc}", table=label) from exc


def _bound(kind: pa.DataType, cutoff: datetime, label: str, column: str
           ) -> tuple[date | datetime, str]:
    """The cutoff in the column's type, and as the literal DataFusion compares it with."""
    cutoff = cutoff.astimezone(UTC)
    if pa.types.is_date(kind):
        return cutoff.date(), cutoff.date().isoformat()
    if pa.types.is_timestamp(kind):
        assert isinstance(kind, pa.TimestampType)
        if kind.tz is None:  # a naive timestamp is taken as UTC
            naive = cutoff.replace(tzinfo=None)
            return naive, naive.isoformat()
        return cutoff, cutoff.replace(tzinfo=None).isoformat() + "Z"
    raise StorageError(f"`{label}`.`{column}` is {kind}: a retention period is measured on "
                       "a date or timestamp column", table=label,
                       hint="set `retention_column:` to a date or timestamp column")
