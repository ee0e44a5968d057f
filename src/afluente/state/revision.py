"""Which schema a state store is at: the version table and the newest migration's id.

Kept apart from :mod:`afluente.state.migrate` so a read of the store that needs only these
names (`afluente.state.sqlite_read`) imports neither SQLAlchemy nor Alembic.
"""

from __future__ import annotations

#: Alembic's bookkeeping table, named so it cannot clash in a shared PostgreSQL database.
VERSION_TABLE = "afluente_state_version"

#: The newest migration in ``migrations/versions`` (a test checks the two agree).
HEAD_REVISION = "0005"
