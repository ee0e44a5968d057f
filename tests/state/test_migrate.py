"""Opening a store at the newest schema is one query; an older store still migrates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from afluente.state import StateStore, default_url
from afluente.state.migrate import HEAD_REVISION, VERSION_TABLE, alembic_config, head_revision


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    assert head_revision() == HEAD_REVISION


def test_an_older_store_is_migrated_to_head(tmp_path: Path) -> None:
    url = default_url(tmp_path)
    (tmp_path / ".afluente").mkdir()
    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    with StateStore.open(url) as store:
        store.start_run("r1", "shop", None, {})
    with engine.connect() as connection:
        version = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    engine.dispose()
    assert version == [(HEAD_REVISION,)]


def test_opening_a_current_store_does_not_load_alembic(tmp_path: Path) -> None:
    url = default_url(tmp_path)
    StateStore.open(url).close()  # creates it at head
    probe = (
        "import sys\n"
        "from afluente.state import StateStore\n"
        f"StateStore.open({url!r}).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
