"""`afluente forget` and `subject export` on a project whose personal columns are encrypted
(docs/lgpd.md#erasure-afluente-forget---subject-cpf): the row search opens the encrypted
columns, so the subject's rows go from every table whether the value that finds them is
sealed under a per-subject key or under the table's key, and the subject's key is destroyed.
Every byte of the project is then searched for the subject, with the encrypted columns of
every Parquet file left (every version) opened too."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.errors import ErasureError
from afluente.governance.column_cipher import open_cipher
from afluente.governance.erasure import forget
from afluente.governance.key_admin import init_keys
from afluente.governance.subject_export import export_subject
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse
from cli_inprocess import run_afluente
from governance.leak_search import occurrences

ANA = ["ana@example.com", "ANA@EXAMPLE.COM", "ana souza", "Ana Souza"]
OTHERS = {"bruno@example.com", "carla@example.com"}
TABLES = ("bronze.customers", "silver.customers")


def _encryption(subject: str | None) -> str:
    return ("\ngovernance:\n  encryption:\n    key: {source: env}\n"
            + (f"    subject: {subject}\n" if subject else ""))


@pytest.fixture(scope="module", autouse=True)
def master_key() -> Iterator[None]:
    before = os.environ.get("AFLUENTE_MASTER_KEY")
    os.environ["AFLUENTE_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    yield
    if before is None:
        del os.environ["AFLUENTE_MASTER_KEY"]
    else:
        os.environ["AFLUENTE_MASTER_KEY"] = before


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The scaffold built twice: e-mail and name sealed under per-subject keys (`subject:
    email`), and under the tables' keys only (no `subject`)."""
    found = {}
    for kind in ("subject", "table"):
        root = tmp_path_factory.mktemp(f"encrypted_{kind}") / "shop"
        scaffold(root)
        with (root / "afluente.yml").open("a") as config:
            config.write(_encryption("email" if kind == "subject" else None))
        project = load_project(root)
        init_keys(project)
        assert run_project(project).status == "success"
        found[kind] = root
    return found


@pytest.fixture(params=["subject", "table"])
def shop(request: pytest.FixtureRequest, built: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of one built project a test may change."""
    return Path(shutil.copytree(built[request.param], tmp_path / "shop"))


def opened_values(root: Path) -> list[str]:
    """Every value of an encrypted column in every Parquet file under the warehouse (the
    files of every version still there), opened with the project's keys, lower-cased."""
    cipher = open_cipher(load_project(root))
    assert cipher is not None
    found: list[str] = []
    for path in sorted((root / "warehouse").rglob("*.parquet")):
        layer, table = path.relative_to(root / "warehouse").parts[:2]
        data = pq.read_table(path)
        for column in cipher.encrypted(TableRef(layer, table)) & set(data.column_names):
            found += [str(v).lower() for v in cipher.decrypt(
                f"{layer}.{table}", column, data.column(column).combine_chunks()).to_pylist()
                if v is not None]
    return found


def versions(root: Path) -> dict[str, int | None]:
    warehouse = Warehouse(load_project(root).warehouse_uri)
    return {t: warehouse.version(TableRef.parse(t)) for t in TABLES}


def subject_keys(root: Path) -> int:
    with sqlite3.connect(root / ".afluente" / "keyring.db") as db:
        count: int = db.execute("SELECT count(*) FROM subject_keys").fetchone()[0]
    return count


def test_forget_by_an_encrypted_value_removes_the_rows_and_leaves_no_byte(shop: Path) -> None:
    assert "ana@example.com" in opened_values(shop)  # the values are there, sealed
    assert occurrences(shop / "warehouse", ANA) == []
    keys_before = subject_keys(shop)
    certificate = forget(load_project(shop), "email=Ana@Example.com")
    assert {t.table: t.rows_removed for t in certificate.tables} == dict.fromkeys(TABLES, 1)
    if keys_before:  # per-subject keys: Ana's is destroyed as well
        assert len(certificate.crypto_shredded["subject_key_id"]) == 24
        assert subject_keys(shop) == keys_before - 1
    else:
        assert certificate.crypto_shredded == {}
    assert occurrences(shop, ANA, skip=("landing",)) == []
    opened = opened_values(shop)
    assert not [v for v in opened if v in {a.lower() for a in ANA}]
    assert set(opened) >= OTHERS
    done = run_afluente(["-p", str(shop), "--json", "query",
                         "SELECT customer_id, email FROM silver.customers ORDER BY 1"])
    assert json.loads(done.stdout) == [{"customer_id": 2, "email": "bruno@example.com"},
                                       {"customer_id": 3, "email": "carla@example.com"}]
    bronze = run_afluente(["-p", str(shop), "--json", "query",
                           "SELECT count(*) AS n FROM bronze.customers "
                           "WHERE customer_id = '1' OR email IS NULL"])
    assert json.loads(bronze.stdout) == [{"n": 0}]  # no row left behind with NULLs


def test_subject_export_shows_the_encrypted_values_opened(shop: Path) -> None:
    exported = export_subject(load_project(shop), "email=ana@example.com")
    assert exported["tables"]["silver.customers"] == [
        {"customer_id": 1, "name": "ana souza", "email": "ana@example.com", "uf": "SP"}]
    (bronze,) = exported["tables"]["bronze.customers"]
    assert (bronze["email"], bronze["name"].strip().lower()) == ("ANA@EXAMPLE.COM",
                                                                   "ana souza")


def test_forget_of_a_value_no_encrypted_column_holds_changes_nothing(shop: Path) -> None:
    before, keys, files = versions(shop), subject_keys(shop), opened_values(shop)
    with pytest.raises(ErasureError, match=r"no row holds the subject `email=…` in the 2 "
                                           r"tables holding personal data; nothing was"):
        forget(load_project(shop), "email=nobody@example.com")
    assert (versions(shop), subject_keys(shop), opened_values(shop)) == (before, keys, files)
    cli = run_afluente(["-p", str(shop), "forget", "--subject", "email=nobody@example.com"])
    assert cli.returncode != 0 and "nothing was changed" in cli.stderr
    assert "nobody@example.com" not in cli.stderr


def test_classify_judges_encrypted_columns_by_their_values(shop: Path) -> None:
    run = run_afluente(["-p", str(shop), "--json", "classify"])
    assert run.returncode == 0, run.stderr
    found = {f"{s['table']}.{s['column']}": s for s in json.loads(run.stdout)["suggestions"]}
    email = found["silver.customers.email"]
    assert (email["matched"], email["sampled"], email["reason"]) == (3, 3, "name and values")
    assert email["confidence"] == 1.0


def test_forget_by_another_column_destroys_the_key_of_the_subject_found(
        built: dict[str, Path], tmp_path: Path) -> None:
    """Keys are made per e-mail; the subject is named by their customer id: the e-mail their
    rows hold names the key to destroy, and a backup of the files no longer opens them."""
    shop = Path(shutil.copytree(built["subject"], tmp_path / "shop"))
    backup = Path(shutil.copytree(shop / "warehouse", tmp_path / "backup"))
    keys = subject_keys(shop)
    certificate = forget(load_project(shop), "customer_id=1")
    assert {t.table: t.rows_removed for t in certificate.tables} == dict.fromkeys(TABLES, 1)
    assert len(certificate.crypto_shredded["subject_key_id"]) == 24
    assert subject_keys(shop) == keys - 1
    shutil.rmtree(shop / "warehouse")
    shutil.copytree(backup, shop / "warehouse")  # the files as they were before the erasure
    opened = opened_values(shop)
    assert set(opened) >= OTHERS
    assert not [v for v in opened if v in {a.lower() for a in ANA}]
