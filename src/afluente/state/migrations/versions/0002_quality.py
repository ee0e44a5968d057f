"""Data quality results (filled by the data-quality work).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    return None


def downgrade() -> None:
    return None
