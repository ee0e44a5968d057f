"""`afluente subject export`: everything held about a data subject, as JSON (LGPD Art. 18
II, access, and V, portability). The same search as an erasure finds the rows (every table
holding personal data, linked by identifying values and keys); nothing is changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from afluente.config import Project
from afluente.errors import ErasureError
from afluente.governance.audit import append_audit
from afluente.governance.erasure import find_subject
from afluente.governance.holdings import ProjectView
from afluente.governance.opened_columns import ColumnOpener
from afluente.governance.subject import Subject


def export_subject(project: Project, subject_text: str) -> dict[str, Any]:
    """`{subject_key, exported_at, tables: {table: [rows]}}`; rows as JSON values."""
    subject = Subject.parse(subject_text)
    opener = ColumnOpener.of(project)  # encrypted columns are searched and shown opened
    try:
        found = find_subject(ProjectView.load(project), subject, opener)
    finally:
        opener.close()
    if not found.rows:
        raise ErasureError(
            f"no row holds the subject `{subject.column}=…` in the "
            f"{len(found.holdings)} tables holding personal data",
            hint="check the value, or tag the column that holds it `pii`")
    tables = {t: _visible(rows.to_pylist()) for t, rows in sorted(found.rows.items())}
    append_audit(project, "subject_export", f"subject:{subject.column}",
                 {"tables": sorted(tables), "rows": sum(len(r) for r in tables.values())})
    return {"subject_key": subject.column,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": tables}


def _visible(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as JSON values: times as ISO text, bytes as hex."""
    return [{k: _value(v) for k, v in row.items()} for row in rows]


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
