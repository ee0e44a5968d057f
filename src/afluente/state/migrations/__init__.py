"""Alembic migrations of the state store, run by :func:`afluente.state.migrate.upgrade`."""
