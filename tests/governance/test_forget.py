"""`afluente forget` end to end on the demo: one customer erased, then every byte the
project keeps is searched for their CPF, e-mail, phone and name.

The subject is made to reach every place a value can hide: the Delta log's file statistics
(the smallest CPF is a file's `minValues`), the SCD2 history (a move is landed for them), a
quarantine table (the move's second event breaks a rule), `_rescued_data` (a later export
brings a column the bronze schema rescues), the state store's quality samples (a warn rule
fails on their row), the OpenLineage file and the generated HTML docs and health report.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.errors import ErasureError, LockTimeoutError
from afluente.governance.audit import read_entries, verify
from afluente.governance.erasure import Certificate, forget
from afluente.governance.pii_kinds import cpf_ok, digits
from afluente.governance.subject_export import export_subject
from afluente.model import TableRef
from afluente.runtime import plan_project, run_project
from afluente.state import StateStore
from afluente.state.locks import acquire_locks, release_locks
from afluente.storage import Warehouse
from cli_inprocess import run_afluente
from governance.leak_search import occurrences

MOVE_PHONE = "(92) 98111-2233"
HELD_PHONE = "(92) 98111-4455"


@dataclass
class Erased:
    root: Path
    customer_id: int
    values: list[str]
    certificate: Certificate
    exported: dict[str, Any]  # `subject export` before the erasure
    before: dict[str, list[dict[str, object]]]  # other customers' rows before the erasure


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)


def _pick_subject(landing: Path) -> dict[str, str]:
    """The customer with the smallest valid CPF whose values no one else shares."""
    customers = _rows(landing / "customers" / "customers_0001.csv")
    text = "\n".join(p.read_text(encoding="utf-8") for p in landing.rglob("*.csv")).lower()
    for row in sorted((r for r in customers if cpf_ok(r["cpf"])), key=lambda r: digits(r["cpf"])):
        if all(text.count(v.lower()) == 1 for v in (row["name"], row["email"], row["cpf"])):
            return row
    raise AssertionError("no customer with unique values in the demo landing zone")


def _prepare(root: Path) -> dict[str, str]:
    prepare_demo(root, orders=120, seed=11)
    landing = root / "landing"
    subject = _pick_subject(landing)
    cid = subject["customer_id"]
    move = {"customer_id": cid, "name": subject["name"], "cpf": subject["cpf"],
            "email": subject["email"], "phone": MOVE_PHONE, "city": "Manaus", "uf": "AM",
            "updated_at": "2025-06-01 10:00:00", "op": "U"}
    held = {**move, "phone": HELD_PHONE, "updated_at": "2025-07-01 10:00:00"}
    _write(landing / "customer_updates" / "customer_updates_0002_1.csv", [move, held])
    yml = root / "afluente.yml"
    yml.write_text(yml.read_text(encoding="utf-8").replace(
        "    path: landing/customer_updates/*.csv\n",
        "    path: landing/customer_updates/*.csv\n    schema_evolution: rescue\n")
        + "\nopenlineage: {transport: file}\n", encoding="utf-8")
    _add_rules(root / "models" / "silver" / "customers.sql",
               f"  - {{name: lgpd_watch, expression: \"customer_id <> {cid}\", action: warn}}")
    _add_rules(root / "models" / "silver" / "customer_updates.sql",
               "  - {name: lgpd_hold,"
               " expression: \"updated_at <> TIMESTAMP '2025-07-01 10:00:00'\","
               " action: quarantine}")
    return subject


def _add_rules(model: Path, rule: str) -> None:
    text = model.read_text(encoding="utf-8")
    model.write_text(text.replace("*/", f"expectations:\n{rule}\n*/", 1), encoding="utf-8")


def _others(root: Path, cid: int) -> dict[str, list[dict[str, object]]]:
    warehouse = Warehouse(load_project(root).warehouse_uri)
    found = {}
    for table, column in (("silver.customers", "customer_id"),
                          ("gold.dim_customer", "customer_id"),
                          ("bronze.customers", "customer_id")):
        data = warehouse.dataset(TableRef.parse(table)).to_table()
        key = data[column].cast("string")
        kept = data.filter(pc.not_equal(key, str(cid)))
        found[table] = sorted(kept.drop_columns(
            [c for c in kept.column_names if c.startswith("_") and c != "_row_hash"]
        ).to_pylist(), key=str)
    return found


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> Erased:
    root = tmp_path_factory.mktemp("lgpd_demo")
    subject = _prepare(root)
    assert run_project(load_project(root)).status == "success"
    # a later export with a column bronze does not have: its values go to `_rescued_data`
    extra = {"customer_id": subject["customer_id"], "op": "U", "city": "Manaus", "uf": "AM",
             "updated_at": "2025-08-01 10:00:00", "cpf_titular": subject["cpf"]}
    _write(root / "landing" / "customer_updates" / "customer_updates_0003_1.csv", [extra])
    assert run_project(load_project(root)).status == "success"
    for args in (["docs", "build"], ["health", "--html", str(root / "target/health.html")]):
        assert run_afluente(["-p", str(root), *args]).returncode == 0
    cid = int(subject["customer_id"])
    values = [subject["cpf"], digits(subject["cpf"]), subject["email"], subject["phone"],
              digits(subject["phone"]), subject["name"], MOVE_PHONE, digits(MOVE_PHONE),
              HELD_PHONE, digits(HELD_PHONE)]
    before = occurrences(root, values, skip=("landing",))
    for place in ("state.db", "__quarantine", "bronze/customer_updates"):
        assert any(place in hit for hit in before), f"the subject never reached {place}"
    # personal columns are kept out of the statistics from each table's creation
    assert [hit for hit in before if "_delta_log" in hit] == []
    others = _others(root, cid)
    exported = export_subject(load_project(root), f"cpf={subject['cpf']}")
    certificate = forget(load_project(root), f"cpf={subject['cpf']}")
    return Erased(root, cid, values, certificate, exported, others)


def test_no_byte_of_the_project_holds_the_subject(erased: Erased) -> None:
    assert occurrences(erased.root, erased.values, skip=("landing",)) == []


def test_the_certificate_lists_what_was_touched_and_holds_no_value(erased: Erased) -> None:
    tables = {t.table: t.rows_removed for t in erased.certificate.tables}
    assert tables == {t: len(rows) for t, rows in erased.exported["tables"].items()}
    assert sorted(tables) == [
        "bronze.customer_updates", "bronze.customers", "gold.dim_customer",
        "silver.customer_updates", "silver.customer_updates__quarantine", "silver.customers"]
    assert tables["silver.customer_updates__quarantine"] == 1
    assert tables["gold.dim_customer"] >= 3  # registration, the move, the later event
    rescued = [r["_rescued_data"] for r in erased.exported["tables"]["bronze.customer_updates"]]
    assert any(r and "cpf_titular" in r for r in rescued)
    assert erased.certificate.state_store.get("quality_results", 0) >= 1
    landing = {Path(f).name for f in erased.certificate.source_files_holding_subject}
    assert landing == {"customers_0001.csv", "customer_updates_0002_1.csv",
                       "customer_updates_0003_1.csv"}
    stored = (erased.root / ".afluente" / "erasures" /
              f"{erased.certificate.request_id}.json").read_text(encoding="utf-8")
    assert "customer_updates" in stored
    assert occurrences(erased.root / ".afluente" / "erasures", erased.values) == []


def test_other_customers_are_intact_and_the_tables_still_read(erased: Erased) -> None:
    assert _others(erased.root, erased.customer_id) == erased.before


def test_the_erasure_is_audited_and_the_chain_holds(erased: Erased) -> None:
    project = load_project(erased.root)
    entries = read_entries(project)
    assert {"write", "erasure"} <= {e.action for e in entries}
    last = entries[-1]
    assert last.action == "erasure" and last.object == f"erasure:{erased.certificate.request_id}"
    assert last.detail["rows_removed"] == erased.certificate.rows_removed
    assert verify(project) is None


def test_a_subject_matching_nothing_changes_nothing(erased: Erased) -> None:
    project = load_project(erased.root)
    warehouse = Warehouse(project.warehouse_uri)
    versions = {t.table: warehouse.version(TableRef.parse(t.table))
                for t in erased.certificate.tables}
    with pytest.raises(ErasureError, match=r"no row holds the subject `cpf=…` .* nothing was"):
        forget(project, "cpf=529.982.247-25")
    assert {t: warehouse.version(TableRef.parse(t)) for t in versions} == versions


def test_later_runs_work_and_do_not_bring_the_subject_back(erased: Erased) -> None:
    """Runs after the erasure: bronze keeps what it ingested (its progress survives the log
    cleaning), so the landing files still holding the subject are not read again. The
    erasure commits carry each table's build record (fingerprint, inputs moved to their
    erased versions, progress): no erased table is rebuilt for the erasure."""
    erased_tables = {t.table for t in erased.certificate.tables if "__" not in t.table}
    steps = {str(s.ref): s for s in plan_project(load_project(erased.root)).plan.steps}
    reasons = {t: steps[t].reason for t in erased_tables}
    for table, reason in reasons.items():  # rebuilt only after an input the erasure did not
        assert "definition changed" not in reason and not reason.startswith("full"), reasons
        if steps[table].action == "run" and steps[table].mode is None:  # touch rebuilds
            upstream = re.match(r"upstream `([\w.]+)` runs first", reason)
            assert upstream and upstream.group(1) not in erased_tables, reasons
    assert {t for t in erased_tables if t.startswith("bronze.")} == {
        t for t in erased_tables if steps[t].action == "skip"}, reasons
    result = run_project(load_project(erased.root))
    assert result.status == "success"
    assert occurrences(erased.root, erased.values, skip=("landing",)) == []
    assert _others(erased.root, erased.customer_id) == erased.before


def test_classify_suggests_what_lineage_cannot_reach(erased: Erased) -> None:
    """The CRM feed's bronze copy carries a CPF and a name no model reads: only their values
    tell. The tagged columns are recognised; product and seller names are not people."""
    run = run_afluente(["-p", str(erased.root), "--json", "classify"])
    assert run.returncode == 0, run.stderr
    suggestions = json.loads(run.stdout)["suggestions"]
    found = {f"{s['table']}.{s['column']}": s for s in suggestions}
    assert {k for k, s in found.items() if not s["tagged"]} >= {
        "bronze.customer_updates.cpf", "bronze.customer_updates.name"}
    assert found["silver.customers.cpf"]["tagged"] and found["silver.customers.cpf"][
        "confidence"] == 1.0
    assert not {k for k in found if ".products." in k or ".sellers." in k}
    assert all(set(x[:-2]) <= set("•.-@() +") for s in suggestions for x in s["samples"])


def test_export_after_the_erasure_finds_nothing(erased: Erased) -> None:
    run = run_afluente(["-p", str(erased.root), "subject", "export", "--subject",
                        f"email={erased.values[2]}"])
    assert run.returncode == 1
    assert "no row holds the subject `email=…`" in run.stderr
    assert erased.values[2] not in run.stderr


def test_records_of_processing_come_from_lineage_and_tags(erased: Erased) -> None:
    out = erased.root / "target" / "records.md"
    run = run_afluente(["-p", str(erased.root), "--json", "processing-records", "--out",
                        str(out)])
    assert run.returncode == 0, run.stderr
    records = {r["table"]: r for r in json.loads(run.stdout)}
    assert sorted(records) == [
        "bronze.customer_updates", "bronze.customers", "gold.dim_customer",
        "silver.customer_updates", "silver.customer_updates__quarantine", "silver.customers"]
    dim = records["gold.dim_customer"]
    assert dim["personal_data"] == {"cpf": "cpf", "email": "email", "name": "name",
                                    "phone": "phone"}
    assert {"source:customer_updates", "source:customers"} <= set(dim["sources"])
    assert records["bronze.customers"]["sources"] == ["source:customers"]
    assert "gold.fct_orders" in dim["recipients"]
    assert records["silver.customers"]["owner"] == "data-platform"
    assert "## gold.dim_customer" in out.read_text(encoding="utf-8")


def test_personal_columns_are_kept_out_of_file_statistics(erased: Erased) -> None:
    """The erased tables list only their other columns for statistics, so their next writes
    keep no min/max of the personal ones (delta-rs honours the property on writes and
    merges); a table without personal data is left alone."""
    warehouse = Warehouse(load_project(erased.root).warehouse_uri)

    def stats_columns(table: str) -> set[str] | None:
        config = warehouse.open(TableRef.parse(table)).metadata().configuration
        listed = config.get("delta.dataSkippingStatsColumns")
        return set(listed.split(",")) if listed is not None else None

    dim = stats_columns("gold.dim_customer")
    bronze = stats_columns("bronze.customers")
    assert dim is not None and {"customer_key", "customer_id", "valid_from"} <= dim
    assert bronze is not None and {"customer_id", "_row_hash"} <= bronze
    assert not ({"cpf", "email", "phone", "name", "_rescued_data"} & (dim | bronze))
    assert stats_columns("silver.orders") is None


def test_forget_waits_for_a_run_holding_the_tables(erased: Erased) -> None:
    """A live run's table lock stops the erasure before anything changes."""
    loaded = load_project(erased.root)
    run = loaded.config.run.model_copy(update={"lock_timeout": timedelta(0)})
    project = replace(loaded, config=loaded.config.model_copy(update={"run": run}))
    warehouse = Warehouse(project.warehouse_uri)
    before = warehouse.version(TableRef("silver", "customers"))
    other = _others(erased.root, erased.customer_id)["silver.customers"][0]
    store = StateStore.open(project.state_url)
    try:
        acquire_locks(store, ["table:silver.customers"], "run-elsewhere", wait=timedelta(0))
        with pytest.raises(LockTimeoutError, match=r"`table:silver\.customers` is locked by"):
            forget(project, f"customer_id={other['customer_id']}")
        release_locks(store, "run-elsewhere")
    finally:
        store.close()
    assert warehouse.version(TableRef("silver", "customers")) == before


def test_a_version_from_before_the_erasure_is_said_erased_not_damaged(erased: Erased) -> None:
    table = "silver.customers"
    (erasure,) = [t for t in erased.certificate.tables if t.table == table]
    assert erasure.version is not None
    run = run_afluente(["-p", str(erased.root), "show", table, "--version", "0"])
    assert run.returncode == 1
    request = erased.certificate.request_id
    assert f"version 0 of `{table}` was written before the erasure {request}" in run.stderr
    assert "damaged" not in run.stderr.replace("not damaged", "")
    assert f".afluente/erasures/{request}.json" in run.stderr
