"""`afluente keys rotate --reencrypt` with per-subject keys (docs/governance.md#encryption-at-
rest): every subject gets a new generation of their key (a new key under a new id), the
tables are sealed again under it, the earlier generation stays for the versions written
under it (time travel), and `forget` destroys every generation of the subject's key."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import Project, load_project
from afluente.governance.audit import read_entries, verify
from afluente.governance.column_cipher import SUBJECT_SEALED, open_cipher
from afluente.governance.erasure import forget
from afluente.governance.key_admin import (
    init_keys,
    key_status,
    prune_retired_keys,
    rotate_keys,
)
from afluente.governance.keyring import SUBJECT_ID_BYTES
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse
from afluente.storage.erase import seal_history
from cli_inprocess import run_afluente

ENCRYPTION = "\ngovernance:\n  encryption:\n    key: {source: env}\n    subject: email\n"
SILVER = TableRef("silver", "customers")


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def subject_ids(root: Path, version: int) -> set[bytes]:
    """The subject ids the e-mails of `silver.customers` at `version` are sealed under."""
    data = Warehouse(load_project(root).warehouse_uri).dataset(SILVER, version).to_table()
    blobs = [b for b in data.column("email").to_pylist() if b]
    assert all(b[0] == SUBJECT_SEALED for b in blobs)
    return {b[1:1 + SUBJECT_ID_BYTES] for b in blobs}


def opened(root: Path, warehouse: Path) -> list[str | None]:
    """The e-mails of every `silver.customers` file under `warehouse`, opened."""
    cipher = open_cipher(load_project(root))
    assert cipher is not None
    found: list[str | None] = []
    for path in sorted((warehouse / "silver" / "customers").glob("*.parquet")):
        found += cipher.decrypt("silver.customers", "email", pq.read_table(path).column(
            "email").combine_chunks()).to_pylist()
    return found


def _built(root: Path) -> Project:
    scaffold(root)
    with (root / "afluente.yml").open("a") as config:
        config.write(ENCRYPTION)
    project = load_project(root)
    init_keys(project)
    assert run_project(project).status == "success"
    return project


def test_rotation_gives_subjects_new_keys_keeps_the_old_for_time_travel_and_forget_ends_both(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFLUENTE_MASTER_KEY", _key())
    root = tmp_path / "shop"
    project = _built(root)
    warehouse = Warehouse(project.warehouse_uri)
    before = warehouse.version(SILVER)
    assert before is not None
    old_ids = subject_ids(root, before)
    subjects = key_status(project)["subject_keys"]
    assert len(old_ids) == 3 and subjects == 3

    new_key = _key()
    monkeypatch.setenv("AFLUENTE_NEW_MASTER_KEY", new_key)
    done = rotate_keys(project, reencrypt=True)
    monkeypatch.setenv("AFLUENTE_MASTER_KEY", new_key)
    assert done["subject_keys_rotated"] == subjects
    after = warehouse.version(SILVER)
    assert after == before + 1
    new_ids = subject_ids(root, after)
    assert len(new_ids) == 3 and not new_ids & old_ids  # re-sealed under new generations
    status = key_status(project)
    assert (status["subject_keys"], status["retired_subject_keys"]) == (3, 3)

    sql = "SELECT email FROM silver.customers ORDER BY email"
    emails = ["ana@example.com", "bruno@example.com", "carla@example.com"]
    now = run_afluente(["-p", str(root), "--json", "query", sql])
    assert [r["email"] for r in json.loads(now.stdout)] == emails, now.stderr
    old = run_afluente(["-p", str(root), "--json", "show", "silver.customers", "--version",
                        str(before)])  # time travel: the earlier generation still opens
    assert old.returncode == 0, old.stderr
    assert sorted(r["email"] for r in json.loads(old.stdout)) == emails

    rotated = [e for e in read_entries(project) if e.action == "key"]
    assert [e.detail.get("operation") for e in rotated][-4:] == [
        "rotate", "rotate_subject_keys", "reencrypt", "reencrypt"]
    assert rotated[-3].detail["subject_keys"] == 3 and verify(project) is None

    backup = Path(shutil.copytree(root / "warehouse", tmp_path / "backup"))  # both generations
    certificate = forget(project, "email=ana@example.com")
    assert certificate.rows_removed == 2
    status = key_status(project)
    assert (status["subject_keys"], status["retired_subject_keys"]) == (2, 2)
    in_backup = opened(root, backup)
    others = ["bruno@example.com", "carla@example.com"]
    assert sorted(v for v in in_backup if v) == sorted(others * 2)
    assert in_backup.count(None) == 2  # Ana's e-mail, sealed under either generation


def test_a_keyring_made_before_subject_key_rotation_opens_and_rotates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from afluente.config.governance import KeySpec
    from afluente.governance.keyring import KeyRing

    monkeypatch.setenv("AFLUENTE_MASTER_KEY", _key())
    spec, path = KeySpec(source="env"), tmp_path / "keyring.db"
    ring = KeyRing.create(path, spec)
    ((first_id, key),) = ring.subject_keys(["ana@example.com"]).values()
    ring.close()
    with sqlite3.connect(path) as db:  # as the keyrings of the first release were
        db.execute("DROP TABLE retired_subject_keys")
    ring = KeyRing.open(path, spec)
    assert ring.rotate_subject_keys() == 1
    ((second_id, second),) = ring.subject_keys(["ANA@example.com"]).values()
    assert second_id != first_id and second != key
    assert ring.keys_by_id([first_id, second_id]) == {first_id: key, second_id: second}
    assert ring.shred("ana@example.com") == second_id.hex()
    assert ring.keys_by_id([first_id, second_id]) == {}


def test_prune_keeps_retired_keys_while_files_need_them_and_drops_them_after_vacuum(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFLUENTE_MASTER_KEY", _key())
    root = tmp_path / "shop"
    project = _built(root)
    new_key = _key()
    monkeypatch.setenv("AFLUENTE_NEW_MASTER_KEY", new_key)
    rotate_keys(project, reencrypt=True)
    monkeypatch.setenv("AFLUENTE_MASTER_KEY", new_key)
    assert prune_retired_keys(project) == {"operation": "prune", "retired_dropped": 0,
                                           "retired_kept": 3}  # the old versions' files
    warehouse = Warehouse(project.warehouse_uri)
    for table in ("bronze.customers", "silver.customers"):  # the old versions vacuumed
        seal_history(warehouse.uri(TableRef.parse(table)), lambda line: line)
    done = run_afluente(["-p", str(root), "--json", "keys", "prune"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["retired_dropped"] == 3
    assert key_status(project)["retired_subject_keys"] == 0
    now = run_afluente(["-p", str(root), "--json", "query",
                        "SELECT email FROM silver.customers ORDER BY email LIMIT 1"])
    assert json.loads(now.stdout) == [{"email": "ana@example.com"}], now.stderr
    assert [e.detail.get("operation") for e in read_entries(project)
            if e.action == "key"][-2:] == ["prune", "prune"]
