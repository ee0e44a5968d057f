"""Observability: run metrics, monitors and incidents (filled by the observability work).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    return None


def downgrade() -> None:
    return None
