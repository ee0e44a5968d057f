"""Observability: per model run metrics (with a column profile) and incidents.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "model_metrics",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("finished_at", _timestamp(), nullable=False),
        sa.Column("duration_s", sa.Float()),
        sa.Column("rows_read", sa.BigInteger()),
        sa.Column("rows_written", sa.BigInteger()),
        sa.Column("rows_added", sa.BigInteger()),
        sa.Column("row_count", sa.BigInteger()),
        sa.Column("bytes_written", sa.BigInteger()),
        sa.Column("files_written", sa.Integer()),
        sa.Column("versions_read", sa.Text(), nullable=False),
        sa.Column("version_written", sa.BigInteger()),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "model", name="pk_model_metrics"),
    )
    op.create_table(
        "incidents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("pillar", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(255), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("root", sa.String(255), nullable=False),
        sa.Column("downstream", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("opened_at", _timestamp(), nullable=False),
        sa.Column("opened_run_id", sa.String(64)),
        sa.Column("last_seen_at", _timestamp(), nullable=False),
        sa.Column("resolved_at", _timestamp()),
        sa.Column("resolved_run_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_model_status", "incidents", ["model", "status"])


def downgrade() -> None:
    op.drop_table("incidents")
    op.drop_table("model_metrics")
