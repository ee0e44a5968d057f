"""Encryption at rest (docs/governance.md#encryption-at-rest): the personal columns of the
scaffold's customers are stored as AES-GCM ciphertext under per-subject keys (`subject:
email`); reads decrypt for whoever the governed reader lets see them; destroying a
subject's key leaves no copy readable; a wrong key writes nothing; an interrupted rotation
loses nothing."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.config.governance import EncryptionSpec, KeySpec
from afluente.errors import EncryptionKeyError
from afluente.governance.column_cipher import ColumnCipher, open_cipher
from afluente.governance.erasure import forget
from afluente.governance.key_admin import init_keys, rotate_keys
from afluente.governance.keyring import KeyRing
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse
from cli_inprocess import run_afluente
from governance.leak_search import occurrences

GOVERNANCE = """
governance:
  roles:
    reader:
      grants: [select: silver]
    masker:
      grants: [select: silver]
      masks: {silver.customers.email: partial}
  encryption:
    key: {source: env}
    subject: email
"""
ANA = ["ana@example.com", "ana souza"]
EVERYONE = [*ANA, "bruno@example.com", "bruno lima", "carla@example.com", "carla dias"]


#: `keys rotate` killed (SIGKILL: no cleanup runs) after re-wrapping the first data key
KILLED_ROTATION = """
import os, signal, sys
from afluente.config import load_project
from afluente.governance import kek, key_admin
wrap, done = kek.LocalKek.wrap, []
def dying(self, key, context):
    done.append(context)
    if len(done) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return wrap(self, key, context)
kek.LocalKek.wrap = dying
key_admin.rotate_keys(load_project(sys.argv[1]))
"""


def _new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
def master_key() -> Iterator[str]:
    key = _new_key()
    before = os.environ.get("AFLUENTE_MASTER_KEY")
    os.environ["AFLUENTE_MASTER_KEY"] = key
    yield key
    if before is None:
        del os.environ["AFLUENTE_MASTER_KEY"]
    else:
        os.environ["AFLUENTE_MASTER_KEY"] = before


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, master_key: str) -> Path:
    """The scaffold (e-mail tagged `pii`: bronze and silver hold it) with encryption
    declared, its keyring created, built."""
    root = tmp_path_factory.mktemp("encrypted") / "shop"
    scaffold(root)
    with (root / "afluente.yml").open("a") as config:
        config.write(GOVERNANCE)
    project = load_project(root)
    init_keys(project)
    assert run_project(project).status == "success"
    return root


@pytest.fixture
def copy(shop: Path, tmp_path: Path) -> Path:
    """A copy of the built project a test may change."""
    return Path(shutil.copytree(shop, tmp_path / "shop"))


def query(root: Path, sql: str, token: str | None = None) -> list[dict[str, object]]:
    done = run_afluente(["-p", str(root), "--json", "query", sql],
                        env={"AFLUENTE_TOKEN": token})
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def token(root: Path, role: str) -> str:
    done = run_afluente(["-p", str(root), "--json", "token", "create", "--role", role,
                         "--name", role])
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["token"])


def test_the_files_hold_no_plaintext_and_the_keyring_no_value(shop: Path) -> None:
    assert occurrences(shop / "warehouse", EVERYONE) == []
    assert occurrences(shop / ".afluente", EVERYONE, skip=("erasures",)) == []
    assert (shop / ".afluente" / "keyring.db").stat().st_mode & 0o077 == 0
    stored = pq.read_table(next((shop / "warehouse/silver/customers").glob("*.parquet")))
    assert stored.schema.field("email").type == pa.binary()
    assert stored.schema.field("uf").type == pa.string()  # not personal: stored as written
    assert stored.column("email")[0].as_py()[0] == 2  # sealed under a subject key


def test_a_granted_read_gets_plaintext_a_masked_one_the_mask(shop: Path) -> None:
    sql = "SELECT customer_id, email FROM silver.customers ORDER BY customer_id"
    assert query(shop, sql)[:2] == [{"customer_id": 1, "email": "ana@example.com"},
                                    {"customer_id": 2, "email": "bruno@example.com"}]
    masked = query(shop, sql, token(shop, "masker"))
    assert [r["email"] for r in masked[:2]] == ["***********.com", "*************.com"]
    hidden = query(shop, "SELECT * FROM silver.customers ORDER BY customer_id",
                   token(shop, "reader"))
    assert "email" not in hidden[0] and hidden[0]["uf"] == "SP"
    shown = run_afluente(["-p", str(shop), "--json", "show", "silver.customers"])
    assert {"customer_id": 1, "name": "ana souza", "email": "ana@example.com", "uf": "SP"} \
        in json.loads(shown.stdout)
    # upstream copies decrypt too (bronze keeps the source's case)
    assert query(shop, "SELECT lower(email) AS e FROM bronze.customers ORDER BY 1")[0] == {
        "e": "ana@example.com"}


def test_ciphertext_moved_to_another_column_does_not_open(shop: Path) -> None:
    cipher = open_cipher(load_project(shop))
    assert cipher is not None
    emails = pq.read_table(next((shop / "warehouse/silver/customers").glob("*.parquet")))
    sealed = emails.column("email").combine_chunks()
    assert "ana@example.com" in cipher.decrypt("silver.customers", "email", sealed).to_pylist()
    with pytest.raises(EncryptionKeyError, match=r"silver\.customers\.name does not decrypt"):
        cipher.decrypt("silver.customers", "name", sealed)
    with pytest.raises(EncryptionKeyError, match=r"bronze\.customers\.email"):
        cipher.decrypt("bronze.customers", "email", sealed)


def test_a_wrong_master_key_is_refused_before_anything_is_written(copy: Path) -> None:
    warehouse = Warehouse(load_project(copy).warehouse_uri)
    versions = {t: warehouse.version(TableRef.parse(t))
                for t in ("bronze.customers", "silver.customers")}
    (copy / "landing" / "customers.csv").write_text(
        "customer_id,name,email,uf\n9,Zé Nova,ze@example.com,ba\n", encoding="utf-8")
    done = run_afluente(["-p", str(copy), "run"], env={"AFLUENTE_MASTER_KEY": _new_key()})
    assert done.returncode != 0
    assert "is not the keyring's: the keyring was made with key local:" in done.stderr
    assert "$AFLUENTE_MASTER_KEY" in done.stderr
    assert {t: warehouse.version(TableRef.parse(t)) for t in versions} == versions
    missing = run_afluente(["-p", str(copy), "run"], env={"AFLUENTE_MASTER_KEY": None})
    assert "$AFLUENTE_MASTER_KEY, which is not set" in missing.stderr
    assert {t: warehouse.version(TableRef.parse(t)) for t in versions} == versions


def test_an_interrupted_rotation_leaves_every_value_readable(copy: Path,
                                                             master_key: str) -> None:
    project = load_project(copy)
    new_key = _new_key()
    os.environ["AFLUENTE_NEW_MASTER_KEY"] = new_key
    try:
        killed = subprocess.run([sys.executable, "-c", KILLED_ROTATION, str(copy)],
                                capture_output=True, text=True, check=False)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        sql = "SELECT email FROM silver.customers ORDER BY customer_id LIMIT 1"
        assert query(copy, sql) == [{"email": "ana@example.com"}]
        warehouse = Warehouse(project.warehouse_uri)
        tables = ("bronze.customers", "silver.customers")
        before = {t: warehouse.version(TableRef.parse(t)) for t in tables}
        done = rotate_keys(project, reencrypt=True)
        assert done["data_keys"] == 3 and done["from"] != done["to"]
        assert sorted(done["reencrypted"]) == list(tables)
        assert {t: warehouse.version(TableRef.parse(t)) for t in tables} == {
            t: v + 1 for t, v in before.items() if v is not None}
    finally:
        del os.environ["AFLUENTE_NEW_MASTER_KEY"]
    old = run_afluente(["-p", str(copy), "query", "SELECT 1 FROM silver.customers"])
    assert old.returncode != 0 and "is not the keyring's" in old.stderr
    rotated = run_afluente(["-p", str(copy), "--json", "query", sql],
                           env={"AFLUENTE_MASTER_KEY": new_key})
    assert json.loads(rotated.stdout) == [{"email": "ana@example.com"}]
    audit = (copy / ".afluente" / "audit.log").read_text().replace(" ", "")
    assert '"operation":"rotate"' in audit and '"operation":"reencrypt"' in audit
    # the rewrite kept the source's progress: a run ingests nothing again (4 landed rows)
    again = run_afluente(["-p", str(copy), "run"], env={"AFLUENTE_MASTER_KEY": new_key})
    assert again.returncode == 0, again.stderr
    count = "SELECT count(*) AS n FROM bronze.customers"
    assert json.loads(run_afluente(["-p", str(copy), "--json", "query", count],
                                   env={"AFLUENTE_MASTER_KEY": new_key}).stdout) == [{"n": 4}]


def test_forget_shreds_the_subject_key_and_no_copy_decrypts(copy: Path, tmp_path: Path
                                                            ) -> None:
    """The rows go (the search opens the encrypted e-mail) and the key is destroyed: a copy
    of the files taken before the erasure (a backup) no longer opens the subject's values."""
    project = load_project(copy)
    backup = shutil.copytree(copy / "warehouse", tmp_path / "backup")
    certificate = forget(project, "email=ANA@example.com")
    assert len(certificate.crypto_shredded["subject_key_id"]) == 24
    assert "every Delta version" in certificate.crypto_shredded["unreadable"]
    assert {t.table: t.rows_removed for t in certificate.tables} == {
        "bronze.customers": 1, "silver.customers": 1}
    cipher = open_cipher(project)
    assert cipher is not None
    opened: list[object] = []
    for path in sorted(Path(backup).rglob("*.parquet")):  # every version's files
        layer, table = path.relative_to(backup).parts[:2]
        data = pq.read_table(path)
        for column in cipher.encrypted(TableRef(layer, table)) & set(data.column_names):
            opened += cipher.decrypt(f"{layer}.{table}", column,
                                     data.column(column).combine_chunks()).to_pylist()
    texts = [str(v).lower() for v in opened if v is not None]
    assert "bruno@example.com" in texts and "carla dias" in texts
    assert not [t for t in texts if t in ANA]
    assert len([v for v in opened if v is None]) >= 4  # Ana's e-mail and name, both tables
    rows = query(copy, "SELECT customer_id, email, name FROM silver.customers "
                       "ORDER BY customer_id")
    assert [r["customer_id"] for r in rows] == [2, 3]
    assert rows[0]["email"] == "bruno@example.com"
    again = run_afluente(["-p", str(copy), "forget", "--subject", "email=ana@example.com"])
    assert again.returncode != 0 and "nothing was changed" in again.stderr


def test_a_passphrase_keyring_names_the_key_on_a_wrong_passphrase(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = KeySpec(source="passphrase")
    monkeypatch.setenv("AFLUENTE_KEY_PASSPHRASE", "correct horse battery staple")
    ring = KeyRing.create(tmp_path / "keyring.db", spec)
    key, made = ring.data_key("table:silver.customers"), ring.kek.key_id
    ring.close()
    monkeypatch.setenv("AFLUENTE_KEY_PASSPHRASE", "wrong horse")
    with pytest.raises(EncryptionKeyError) as wrong:
        KeyRing.open(tmp_path / "keyring.db", spec)
    assert f"the keyring was made with key {made} (passphrase)" in str(wrong.value)
    assert "the passphrase in $AFLUENTE_KEY_PASSPHRASE" in str(wrong.value)
    monkeypatch.setenv("AFLUENTE_KEY_PASSPHRASE", "correct horse battery staple")
    assert KeyRing.open(tmp_path / "keyring.db", spec).data_key("table:silver.customers") == key


def test_a_kms_plug_in_wraps_the_data_keys(tmp_path: Path) -> None:
    spec = KeySpec(source="kms", plugin="governance.file_kms:FileKms",
                   options={"path": str(tmp_path / "kms.key")})
    ring = KeyRing.create(tmp_path / "keyring.db", spec)
    key = ring.data_key("table:gold.x")
    ring.close()
    assert KeyRing.open(tmp_path / "keyring.db", spec).data_key("table:gold.x") == key
    (tmp_path / "kms.key").write_bytes(os.urandom(32))  # the KMS lost the key
    with pytest.raises(EncryptionKeyError, match="does not open the data key 'subjects'"):
        KeyRing.open(tmp_path / "keyring.db", spec).data_key("subjects")
    assert EncryptionSpec(key=spec).pii


def test_a_new_table_key_generation_seals_new_writes_and_opens_old_ones(
        tmp_path: Path, master_key: str) -> None:
    spec = EncryptionSpec(key=KeySpec(source="env"), pii=False, columns=("gold.t.secret",))
    cipher = ColumnCipher(spec, KeyRing.create(tmp_path / "keyring.db", spec.key))
    ref = TableRef("gold", "t")
    batch = pa.record_batch({"id": [1, 2], "secret": ["alfa", None]})
    first = cipher.encrypt_batch(ref, batch, ["secret"]).column(1)
    cipher.ring.data_key(cipher.ring.table_scope("gold.t", 1))  # what --reencrypt does
    second = cipher.encrypt_batch(ref, batch, ["secret"]).column(1)
    assert (first[0].as_py()[0], second[0].as_py()[:3]) == (1, b"\x03\x00\x01")
    both = pa.concat_arrays([first, second])
    assert cipher.decrypt("gold.t", "secret", both).to_pylist() == ["alfa", None] * 2


def test_a_later_ingestion_lands_text_in_an_encrypted_bronze_column_unchanged(
        copy: Path) -> None:
    """Incoming values are cast to the bronze table's types: an encrypted column's type is
    its text, not the binary of its ciphertext (`\\x41` stays four characters, `é` lands)."""
    with (copy / "landing" / "customers.csv").open("a", encoding="utf-8") as landing:
        landing.write("5,Zé Nova,ze\\x41@example.com,ba\n")
    assert run_afluente(["-p", str(copy), "run"]).returncode == 0
    assert query(copy, "SELECT name, email, _rescued_data FROM bronze.customers "
                       "WHERE customer_id = '5'") == [
        {"name": "Zé Nova", "email": "ze\\x41@example.com", "_rescued_data": None}]
