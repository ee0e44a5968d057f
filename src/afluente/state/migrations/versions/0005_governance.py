"""Governance: grants to roles, role members, and service tokens (stored hashed).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "grants",
        sa.Column("role", sa.String(255), nullable=False),
        sa.Column("privilege", sa.String(16), nullable=False),
        sa.Column("securable", sa.String(255), nullable=False),
        sa.Column("granted_by", sa.String(255), nullable=False),
        sa.Column("granted_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("role", "privilege", "securable", name="pk_grants"),
    )
    op.create_table(
        "role_members",
        sa.Column("role", sa.String(255), nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("added_by", sa.String(255), nullable=False),
        sa.Column("added_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("role", "principal", name="pk_role_members"),
    )
    op.create_table(
        "tokens",
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(255), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("revoked_at", _timestamp()),
        sa.PrimaryKeyConstraint("token_id", name="pk_tokens"),
    )


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_table("role_members")
    op.drop_table("grants")
