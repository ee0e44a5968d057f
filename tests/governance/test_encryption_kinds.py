"""Encrypted columns through the incremental kinds and `backfill` (docs/governance.md
#encryption-at-rest): a merge, a merge keyed on an encrypted column, an SCD2 snapshot and a
time_range model seal what they write (the Parquet pages hold no plaintext), open what
their algorithm compares, and read back as plaintext for a granted reader and as the mask
for a masked one. A merge of unchanged values keeps their stored ciphertext and commits no
rows; a wrong key stops an incremental write naming the key, the table as it was."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.config.governance import EncryptionSpec, KeySpec
from afluente.errors import StorageError
from afluente.governance.column_cipher import ColumnCipher
from afluente.governance.key_admin import init_keys
from afluente.governance.keyring import KeyRing
from afluente.model import TableRef
from afluente.runtime import run_project
from afluente.storage import Warehouse
from afluente.storage.target import Target
from cli_inprocess import run_afluente
from governance.leak_search import occurrences

GOVERNANCE = """
governance:
  roles:
    masker:
      grants: [select: silver, select: gold]
      masks: {silver.customers.email: partial}
  encryption:
    key: {source: env}
    subject: email
"""
MERGE = "/* @config\nkind: merge\nunique_key: customer_id\n"
HISTORY = """/* @config
kind: snapshot
keys: [customer_id]
*/
SELECT customer_id, name, email FROM silver.customers
"""
DAILY = """/* @config
kind: time_range
time_column: ordered_at
*/
SELECT o.order_id, o.ordered_at, c.email, o.amount
FROM silver.orders o JOIN silver.customers c USING (customer_id)
"""
# read from bronze directly: tagged (lineage links bronze's columns to silver's tags, not
# on to another branch of bronze's readers)
CHANGES = """/* @config
kind: apply_changes
keys: [customer_id]
sequence_by: seq
scd_type: 2
columns:
  email: {tags: [pii]}
*/
SELECT CAST(customer_id AS INTEGER) AS customer_id, lower(email) AS email,
       _ingested_at AS seq
FROM bronze.customers
"""
LOG = """/* @config
kind: append
columns:
  name: {tags: [pii]}
*/
SELECT CAST(customer_id AS INTEGER) AS customer_id, trim(name) AS name FROM bronze.customers
"""
EVERYONE = ["ana@example.com", "ana souza", "bruno@example.com", "bruno lima",
            "carla@example.com", "carla dias"]
CUSTOMERS = TableRef("silver", "customers")


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
    """The scaffold with encryption declared: silver.customers a merge by customer_id,
    gold.customer_history an SCD2 snapshot of it, gold.customer_changes an SCD2
    apply_changes and gold.customer_log an append of bronze's rows, gold.daily_orders a
    time_range model holding the customers' e-mails; the customers source reads
    `landing/customers*.csv`."""
    root = tmp_path_factory.mktemp("encrypted-kinds") / "shop"
    scaffold(root)
    config = (root / "afluente.yml").read_text()
    config = config.replace("path: landing/customers.csv", "path: landing/customers*.csv")
    (root / "afluente.yml").write_text(config + GOVERNANCE)
    model = root / "models" / "silver" / "customers.sql"
    model.write_text(model.read_text().replace("/* @config\n", MERGE))
    (root / "models" / "gold" / "customer_history.sql").write_text(HISTORY)
    (root / "models" / "gold" / "daily_orders.sql").write_text(DAILY)
    (root / "models" / "gold" / "customer_changes.sql").write_text(CHANGES)
    (root / "models" / "gold" / "customer_log.sql").write_text(LOG)
    project = load_project(root)
    init_keys(project)
    result = run_project(project)
    assert result.status == "success", [m.error for m in result.models if m.error]
    return root


@pytest.fixture
def copy(shop: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(shop, tmp_path / "shop"))


def query(root: Path, sql: str, token: str | None = None,
          key: str | None = None) -> list[dict[str, object]]:
    env: dict[str, str | None] = {"AFLUENTE_TOKEN": token}
    if key is not None:
        env["AFLUENTE_MASTER_KEY"] = key
    done = run_afluente(["-p", str(root), "--json", "query", sql], env=env)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def land(root: Path, name: str, rows: str) -> None:
    (root / "landing" / name).write_text("customer_id,name,email,uf\n" + rows,
                                         encoding="utf-8")


def run(root: Path, key: str | None = None) -> None:
    env = {} if key is None else {"AFLUENTE_MASTER_KEY": key}
    done = run_afluente(["-p", str(root), "run"], env=env)
    assert done.returncode == 0, done.stderr


def stored_emails(root: Path, column: str = "email") -> dict[int, bytes]:
    """silver.customers' stored ciphertext of `column` by customer id (latest version)."""
    table = Warehouse(load_project(root).warehouse_uri).dataset(CUSTOMERS).to_table()
    assert table.schema.field(column).type == pa.binary()
    return dict(zip(table["customer_id"].to_pylist(), table[column].to_pylist(),
                    strict=True))


def subject_id(sealed: bytes) -> bytes:
    """The subject key id a value was sealed under (`02` | id(12) | nonce | ciphertext)."""
    assert sealed[0] == 2
    return sealed[1:13]


def test_every_kind_seals_its_files_and_a_granted_reader_reads_plaintext(shop: Path) -> None:
    assert occurrences(shop / "warehouse", EVERYONE) == []
    for table in ("silver/customers", "gold/customer_history", "gold/daily_orders",
                  "gold/customer_changes", "gold/customer_log"):
        assert list((shop / "warehouse" / table).rglob("*.parquet")), table
    assert query(shop, "SELECT customer_id, email FROM silver.customers "
                       "ORDER BY customer_id") == [
        {"customer_id": 1, "email": "ana@example.com"},
        {"customer_id": 2, "email": "bruno@example.com"},
        {"customer_id": 3, "email": "carla@example.com"}]
    assert query(shop, "SELECT DISTINCT email FROM gold.daily_orders ORDER BY 1")[0] == {
        "email": "ana@example.com"}
    assert query(shop, "SELECT name FROM gold.customer_history WHERE customer_id = 3") == [
        {"name": "carla dias"}]
    token = run_afluente(["-p", str(shop), "--json", "token", "create", "--role", "masker",
                          "--name", "masker"])
    masked = query(shop, "SELECT email FROM silver.customers ORDER BY customer_id",
                   str(json.loads(token.stdout)["token"]))
    assert masked[0] == {"email": "***********.com"}


def test_a_merge_updates_by_key_reseals_only_what_changed(copy: Path) -> None:
    before, names = stored_emails(copy), stored_emails(copy, "name")
    land(copy, "customers_2.csv", "2,Bruno Lima,bruno.lima@example.com,RJ\n"
                                  "5,Zé Nova,ze@example.com,ba\n")
    run(copy)
    assert query(copy, "SELECT customer_id, name, email FROM silver.customers "
                       "ORDER BY customer_id") == [
        {"customer_id": 1, "name": "ana souza", "email": "ana@example.com"},
        {"customer_id": 2, "name": "Bruno Lima", "email": "bruno.lima@example.com"},
        {"customer_id": 3, "name": "carla dias", "email": "carla@example.com"},
        {"customer_id": 5, "name": "Zé Nova", "email": "ze@example.com"}]
    after = stored_emails(copy)
    assert after[1] == before[1] and after[3] == before[3]  # unchanged: not resealed
    assert after[2] != before[2] and after[5] is not None
    # Bruno's name did not change, but his row's subject (e-mail) did: the name is sealed
    # again under the new subject's key, never left under the old one's
    renamed = stored_emails(copy, "name")
    assert renamed[1] == names[1] and renamed[2] != names[2]
    assert subject_id(renamed[2]) == subject_id(after[2]) != subject_id(before[2])
    assert occurrences(copy / "warehouse", [*EVERYONE, "bruno.lima@example.com",
                                            "ze@example.com", "zé nova"]) == []
    # SCD2 over the opened values: Bruno's old e-mail closed, the new one open
    history = query(copy, "SELECT email, valid_to IS NULL AS open FROM "
                          "gold.customer_history WHERE customer_id = 2 ORDER BY valid_from")
    assert history == [{"email": "bruno@example.com", "open": False},
                       {"email": "bruno.lima@example.com", "open": True}]
    assert query(copy, "SELECT count(*) AS n FROM gold.customer_history") == [{"n": 5}]
    # apply_changes (SCD2 over a CDC feed) and append, the same
    assert query(copy, "SELECT email, is_current FROM gold.customer_changes "
                       "WHERE customer_id = 2 ORDER BY valid_from") == [
        {"email": "bruno@example.com", "is_current": False},
        {"email": "bruno.lima@example.com", "is_current": True}]
    assert query(copy, "SELECT name, count(*) AS n FROM gold.customer_log "
                       "GROUP BY name ORDER BY name") == [
        {"name": "Bruno Lima", "n": 2}, {"name": "Zé Nova", "n": 1},
        {"name": "ana souza", "n": 1}, {"name": "carla dias", "n": 2}]


def test_a_merge_of_unchanged_values_rewrites_nothing(copy: Path) -> None:
    warehouse = Warehouse(load_project(copy).warehouse_uri)
    before = stored_emails(copy)
    history = TableRef("gold", "customer_history")
    history_version = warehouse.version(history)
    land(copy, "customers_2.csv", "1,ana souza,ANA@EXAMPLE.COM,sp\n")  # as stored
    run(copy)
    assert stored_emails(copy) == before
    last = warehouse.history(CUSTOMERS, limit=1)[0]
    assert not last.rows_added  # the inputs' bookkeeping commit: no row rewritten
    assert query(copy, "SELECT count(*) AS n FROM gold.customer_history") == [{"n": 3}]
    # the SCD2 table downstream finds no new rows (nothing committed) or commits none
    latest = warehouse.history(history, limit=1)[0]
    assert latest.version == history_version or not latest.rows_added


def test_a_merge_keyed_on_an_encrypted_column_matches_its_stored_rows(copy: Path) -> None:
    model = copy / "models" / "silver" / "customers.sql"
    model.write_text(model.read_text().replace("unique_key: customer_id", "unique_key: email"))
    run(copy)  # the changed definition rebuilds the table, keyed by e-mail
    land(copy, "customers_2.csv", "2,Bruno L.,BRUNO@example.com,SP\n")
    run(copy)
    rows = query(copy, "SELECT email, name, uf FROM silver.customers ORDER BY email")
    assert rows == [{"email": "ana@example.com", "name": "ana souza", "uf": "SP"},
                    {"email": "bruno@example.com", "name": "Bruno L.", "uf": "SP"},
                    {"email": "carla@example.com", "name": "carla dias", "uf": "MG"}]
    assert occurrences(copy / "warehouse", [*EVERYONE, "bruno l."]) == []


def test_a_wrong_key_stops_an_incremental_write_naming_the_key(copy: Path) -> None:
    warehouse = Warehouse(load_project(copy).warehouse_uri)
    tables = [CUSTOMERS, *(TableRef("gold", t) for t in (
        "customer_history", "daily_orders", "customer_changes", "customer_log"))]
    versions = {t: warehouse.version(t) for t in tables}
    land(copy, "customers_2.csv", "2,Bruno Lima,bruno.lima@example.com,RJ\n")
    done = run_afluente(["-p", str(copy), "run"], env={"AFLUENTE_MASTER_KEY": _new_key()})
    assert done.returncode != 0
    assert "is not the keyring's: the keyring was made with key local:" in done.stderr
    assert {t: warehouse.version(t) for t in tables} == versions
    assert query(copy, "SELECT email FROM silver.customers WHERE customer_id = 2") == [
        {"email": "bruno@example.com"}]


def test_backfill_seals_the_partitions_it_rebuilds(copy: Path) -> None:
    warehouse = Warehouse(load_project(copy).warehouse_uri)
    daily = TableRef("gold", "daily_orders")
    days = query(copy, "SELECT min(ordered_at) AS lo, max(ordered_at) AS hi "
                       "FROM silver.orders")[0]
    before = warehouse.version(daily)
    wrong = run_afluente(["-p", str(copy), "backfill", "gold.daily_orders", "--start",
                          str(days["lo"]), "--end", str(days["hi"])],
                         env={"AFLUENTE_MASTER_KEY": _new_key()})
    assert wrong.returncode != 0 and "is not the keyring's" in wrong.stderr
    assert warehouse.version(daily) == before
    done = run_afluente(["-p", str(copy), "backfill", "gold.daily_orders", "--start",
                         str(days["lo"]), "--end", str(days["hi"])])
    assert done.returncode == 0, done.stderr
    assert (warehouse.version(daily) or 0) > (before or 0)
    assert occurrences(copy / "warehouse", EVERYONE) == []
    rows = query(copy, "SELECT email, count(*) AS n FROM gold.daily_orders "
                       "GROUP BY email ORDER BY email")
    assert rows == query(copy, "SELECT c.email, count(*) AS n FROM silver.orders o JOIN "
                               "silver.customers c USING (customer_id) GROUP BY c.email "
                               "ORDER BY c.email")


def test_a_partition_on_an_encrypted_column_is_refused_a_new_one_is_added_sealed(
        tmp_path: Path, master_key: str) -> None:
    spec = EncryptionSpec(key=KeySpec(source="env"), pii=False,
                          columns=("gold.t.secret", "gold.t.extra"))
    cipher = ColumnCipher(spec, KeyRing.create(tmp_path / "keyring.db", spec.key))
    warehouse = Warehouse(str(tmp_path / "warehouse"))
    warehouse.encryptor = cipher
    ref = TableRef("gold", "t")
    target = Target(warehouse.uri(ref), name="gold.t", sealing=warehouse.sealing(ref))
    target.create(pa.RecordBatchReader.from_batches(
        pa.schema([("id", pa.int64()), ("secret", pa.string())]),
        [pa.record_batch({"id": [1], "secret": ["alfa"]})]), None)
    with pytest.raises(StorageError, match=r"cannot be partitioned by secret: the column is "
                                           r"stored encrypted.*nothing was written"):
        target.overwrite(pa.table({"id": [2], "secret": ["beta"]}), None,
                         partition_by=["secret"])
    assert target.version() == 0
    opened = target.dataset()
    assert opened is not None and opened.to_table().to_pylist() == [
        {"id": 1, "secret": "alfa"}]
    # on_schema_change: append_new_columns adds an encrypted column as its ciphertext's type
    target.add_columns([pa.field("extra", pa.string())])
    schema = target.schema()
    assert schema is not None and schema.field("extra").type == pa.binary()
    target.append(pa.table({"id": [2], "secret": ["beta"], "extra": ["gama"]}), None)
    stored = target.stored()
    assert stored is not None and b"gama" not in str(stored.to_table().to_pylist()).encode()
    opened = target.dataset()
    assert opened is not None and sorted(opened.to_table().to_pylist(), key=str) == [
        {"id": 1, "secret": "alfa", "extra": None},
        {"id": 2, "secret": "beta", "extra": "gama"}]


def test_a_diff_typed_unlike_the_table_still_finds_its_stored_ciphertext(
        tmp_path: Path, master_key: str) -> None:
    """An SCD2 identity (key + validity): the diff's int64 and nanosecond timestamps meet
    the table's int32 and microseconds; unchanged values get their stored bytes back."""
    spec = EncryptionSpec(key=KeySpec(source="env"), pii=False, columns=("gold.t.secret",))
    cipher = ColumnCipher(spec, KeyRing.create(tmp_path / "keyring.db", spec.key))
    warehouse = Warehouse(str(tmp_path / "warehouse"))
    warehouse.encryptor = cipher
    ref = TableRef("gold", "t")
    target = Target(warehouse.uri(ref), name="gold.t", sealing=warehouse.sealing(ref))
    at = pa.array([1_700_000_000_000_000] * 2, pa.timestamp("us"))
    stored = pa.table({"id": pa.array([1, 2], pa.int32()), "valid_from": at,
                       "secret": ["alfa", "beta"]})
    target.create(pa.RecordBatchReader.from_batches(stored.schema, stored.to_batches()), None)
    kept = target.stored()
    assert kept is not None
    before = kept.to_table()["secret"].to_pylist()
    diff = pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                     "valid_from": pa.array([1_700_000_000_000_000_000] * 3, pa.timestamp("ns")),
                     "secret": ["alfa", "gama", "delta"]})
    sealing = warehouse.sealing(ref)
    assert sealing is not None
    sealed = sealing.resealed(diff, kept, ["id", "valid_from"],
                              diff.column_names)["secret"].to_pylist()
    assert sealed[0] == before[0]  # unchanged: the stored bytes
    assert sealed[1] not in before and sealed[2] not in before  # changed, new: sealed afresh
    assert cipher.decrypt("gold.t", "secret", pa.array(sealed, pa.binary())).to_pylist() == [
        "alfa", "gama", "delta"]
