"""The name of the quarantine table beside a checked table (`runtime/quarantine.py` writes
it), apart from the writer so `afluente query` can name quarantines without loading the
quality compiler."""

from __future__ import annotations

from afluente.model import TableRef


def quarantine_ref(ref: TableRef) -> TableRef:
    return TableRef(ref.layer, f"{ref.name}__quarantine")


def late_ref(ref: TableRef) -> TableRef:
    """The rows a stream's watermark set aside (`runtime/event_time.py`)."""
    return TableRef(ref.layer, f"{ref.name}__late")


def final_ref(ref: TableRef) -> TableRef:
    """The rows of a window table whose window closed (`runtime/window_close.py`)."""
    return TableRef(ref.layer, f"{ref.name}__final")
