"""Orchestration: run heartbeats, model attempts, table locks, scheduler and sensor
bookkeeping, backfills and their partitions.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("heartbeat_at", _timestamp()))
    with op.batch_alter_table("model_runs") as model_runs:
        model_runs.add_column(sa.Column("attempts", sa.Integer()))
    op.create_table(
        "locks",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer()),
        sa.Column("acquired_at", _timestamp(), nullable=False),
        sa.Column("heartbeat_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_locks"),
    )
    op.create_table(
        "schedule_state",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # schedule | sensor
        sa.Column("last_slot", _timestamp()),
        sa.Column("cursor", sa.Text(), nullable=False),  # JSON: what a sensor has seen
        sa.Column("last_run_id", sa.String(64)),
        sa.Column("last_status", sa.String(16)),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", "kind", name="pk_schedule_state"),
    )
    op.create_table(
        "backfills",
        sa.Column("backfill_id", sa.String(64), nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("selector", sa.Text()),
        sa.Column("start", sa.String(32), nullable=False),
        sa.Column("end", sa.String(32), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("finished_at", _timestamp()),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("backfill_id", name="pk_backfills"),
    )
    op.create_table(
        "backfill_partitions",
        sa.Column("backfill_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("partition", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("started_at", _timestamp()),
        sa.Column("finished_at", _timestamp()),
        sa.Column("rows_written", sa.BigInteger()),
        sa.Column("version_written", sa.BigInteger()),
        sa.Column("error", sa.Text()),
        sa.ForeignKeyConstraint(
            ["backfill_id"], ["backfills.backfill_id"],
            name="fk_backfill_partitions_backfill_id_backfills", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "backfill_id", "model", "partition", name="pk_backfill_partitions"
        ),
    )


def downgrade() -> None:
    op.drop_table("backfill_partitions")
    op.drop_table("backfills")
    op.drop_table("schedule_state")
    op.drop_table("locks")
    with op.batch_alter_table("model_runs") as model_runs:
        model_runs.drop_column("attempts")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("heartbeat_at")
