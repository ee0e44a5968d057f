"""Initial state store: runs, model_runs and events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("selector", sa.Text()),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("finished_at", _timestamp()),
        sa.Column("error", sa.Text()),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer()),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_table(
        "model_runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _timestamp()),
        sa.Column("finished_at", _timestamp()),
        sa.Column("duration_s", sa.Float()),
        sa.Column("rows_written", sa.BigInteger()),
        sa.Column("versions_read", sa.Text(), nullable=False),
        sa.Column("version_written", sa.BigInteger()),
        sa.Column("fingerprint", sa.String(128)),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("run_id", "model", name="pk_model_runs"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.run_id"],
            name="fk_model_runs_run_id_runs",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("run_id", sa.String(64)),
        sa.Column("ts", _timestamp(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("model", sa.String(255)),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_run_id_ts", "events", ["run_id", "ts"])
    op.create_index("ix_events_ts", "events", ["ts"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("model_runs")
    op.drop_table("runs")
