"""The state store's tables (SQLAlchemy Core).

This is the *current* shape of the schema, used to build queries. The history of how a
database reaches it lives in ``migrations/versions``: change both together, one new
migration per change, never an edit of an applied one.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from afluente.state.coltypes import JSONText, UTCDateTime

#: 64-bit ids on PostgreSQL; SQLite only autoincrements a plain INTEGER primary key.
_EVENT_ID = BigInteger().with_variant(Integer, "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("project", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("selector", Text),
    Column("args", JSONText, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("error", Text),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("heartbeat_at", UTCDateTime),  # 0004: a live run beats; a stale one is dead
    Index(None, "started_at"),
)

model_runs = Table(
    "model_runs",
    metadata,
    Column(
        "run_id",
        String(64),
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("model", String(255), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("duration_s", Float),
    Column("rows_written", BigInteger),
    Column("versions_read", JSONText, nullable=False),
    Column("version_written", BigInteger),
    Column("fingerprint", String(128)),
    Column("error", Text),
    Column("attempts", Integer),  # 0004: tries it took (retries of transient errors)
)

events = Table(
    "events",
    metadata,
    Column("id", _EVENT_ID, primary_key=True, autoincrement=True),
    Column("run_id", String(64)),
    Column("ts", UTCDateTime, nullable=False),
    Column("type", String(64), nullable=False),
    Column("model", String(255)),
    Column("level", String(16), nullable=False),
    Column("payload", JSONText, nullable=False),
    Index(None, "run_id", "ts"),
    Index(None, "ts"),
)

# -- observability (migration 0003) ---------------------------------------------------------

model_metrics = Table(
    "model_metrics",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("model", String(255), primary_key=True),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("duration_s", Float),
    Column("rows_read", BigInteger),
    Column("rows_written", BigInteger),
    Column("rows_added", BigInteger),
    Column("row_count", BigInteger),
    Column("bytes_written", BigInteger),
    Column("files_written", Integer),
    Column("versions_read", JSONText, nullable=False),
    Column("version_written", BigInteger),
    Column("columns", JSONText, nullable=False),
    Column("profile", JSONText, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", _EVENT_ID, primary_key=True, autoincrement=True),
    Column("model", String(255), nullable=False),
    Column("pillar", String(16), nullable=False),
    Column("metric", String(255), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("root", String(255), nullable=False),
    Column("downstream", JSONText, nullable=False),
    Column("details", JSONText, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_run_id", String(64)),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("resolved_run_id", String(64)),
    Index(None, "model", "status"),
)

quality_results = Table(
    "quality_results",
    metadata,
    Column("id", _EVENT_ID, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("model", String(255), nullable=False),
    Column("rule", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("action", String(16), nullable=False),
    Column("mostly", Float, nullable=False),
    Column("rows_evaluated", BigInteger, nullable=False),
    Column("rows_failed", BigInteger, nullable=False),
    Column("failed_pct", Float, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("sample", Text, nullable=False),  # JSON list of failing rows
    Column("detail", Text, nullable=False),
    Index(None, "model", "ts"),
    Index(None, "run_id"),
)

# -- orchestration (migration 0004) ---------------------------------------------------------

locks = Table(
    "locks",
    metadata,
    Column("name", String(255), primary_key=True),  # `table:silver.orders`, `scheduler`
    Column("run_id", String(64), nullable=False),  # the holder (a run id, or a scheduler id)
    Column("host", String(255)),
    Column("pid", Integer),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)

schedule_state = Table(
    "schedule_state",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("kind", String(16), primary_key=True),  # schedule | sensor | maintenance
    Column("last_slot", UTCDateTime),
    Column("cursor", JSONText, nullable=False),
    Column("last_run_id", String(64)),
    Column("last_status", String(16)),
    Column("updated_at", UTCDateTime, nullable=False),
)

backfills = Table(
    "backfills",
    metadata,
    Column("backfill_id", String(64), primary_key=True),
    Column("project", String(255), nullable=False),
    Column("selector", Text),
    Column("start", String(32), nullable=False),
    Column("end", String(32), nullable=False),
    Column("workers", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("error", Text),
)

backfill_partitions = Table(
    "backfill_partitions",
    metadata,
    Column(
        "backfill_id",
        String(64),
        ForeignKey("backfills.backfill_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("model", String(255), primary_key=True),
    Column("partition", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("run_id", String(64)),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("rows_written", BigInteger),
    Column("version_written", BigInteger),
    Column("error", Text),
)

# -- governance (migration 0005) ------------------------------------------------------------

grants = Table(
    "grants",
    metadata,
    Column("role", String(255), primary_key=True),
    Column("privilege", String(16), primary_key=True),  # SELECT | MODIFY | ADMIN
    Column("securable", String(255), primary_key=True),  # project | layer | l.t | l.t.c
    Column("granted_by", String(255), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
)

role_members = Table(
    "role_members",
    metadata,
    Column("role", String(255), primary_key=True),
    Column("principal", String(255), primary_key=True),  # user:NAME | group:NAME | service:NAME
    Column("added_by", String(255), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),  # the public half, shown in listings
    Column("name", String(255), nullable=False),  # the service account: service:NAME
    Column("role", String(255), nullable=False),
    Column("secret_sha256", String(64), nullable=False),  # never the token itself
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)
