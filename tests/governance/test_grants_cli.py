"""Grants, roles and tokens on a small project: the CLI, the `governance:` block's errors,
the masks' exact values, HTML escaping of values, and that a project without the block
reads as before."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import shutil
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.config.governance import MaskKind
from afluente.errors import ConfigError
from afluente.governance.policies import mask_sql
from afluente.runtime import run_project
from afluente.runtime.query import query_project

GOVERNANCE = """
governance:
  groups:
    bi_team: [user:nobody_here]
  roles:
    reader:
      grants:
        - select: silver.orders
        - select: silver.customers
      masks:
        silver.customers.name: redact
      row_filters:
        silver.customers: "uf = 'RJ'"
"""


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scaffolded project, built, with no governance block."""
    root = tmp_path_factory.mktemp("grants") / "shop"
    scaffold(root)
    with (root / "landing" / "customers.csv").open("a") as landing:
        landing.write('9,"<script>alert(1)</script>",x@example.com,RJ\n')
    assert run_project(load_project(root)).status == "success"
    return root


@pytest.fixture(scope="module")
def shop(plain: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same project with a `governance:` block."""
    root = tmp_path_factory.mktemp("governed") / "shop"
    shutil.copytree(plain, root)
    with (root / "afluente.yml").open("a") as config:
        config.write(GOVERNANCE)
    return root


def afluente(root: Path, *args: str, token: str | None = None) -> tuple[int, str, str]:
    done = run_afluente(["-p", str(root), *args], env={"AFLUENTE_TOKEN": token})
    return done.returncode, done.stdout, done.stderr


def test_without_governance_everyone_reads_everything(plain: Path) -> None:
    code, out, err = afluente(plain, "--json", "whoami")
    assert code == 0, err
    assert json.loads(out)["admin"] is True
    rows = query_project(load_project(plain), "SELECT email FROM silver.customers "
                         "WHERE customer_id = 1").to_pylist()
    assert rows == [{"email": "ana@example.com"}]


def test_grant_revoke_roles_and_tokens(shop: Path) -> None:
    code, out, err = afluente(shop, "--json", "token", "create", "--role", "reader",
                              "--name", "bi")
    assert code == 0, err
    token = json.loads(out)["token"]
    code, out, err = afluente(shop, "--json", "whoami", token=token)
    assert json.loads(out) == {"principal": "service:bi", "roles": ["reader"], "admin": False}
    code, _, err = afluente(shop, "show", "gold.revenue_by_state", token=token)
    assert code == 1
    assert "service:bi has no SELECT grant on gold.revenue_by_state" in err
    assert afluente(shop, "grant", "select", "gold", "--to", "reader")[0] == 0
    code, out, err = afluente(shop, "--json", "show", "gold.revenue_by_state", token=token)
    assert code == 0, err
    assert {r["uf"] for r in json.loads(out)} == {"SP", "RJ", "MG"}
    code, _, err = afluente(shop, "grant", "admin", "project", "--to", "reader", token=token)
    assert code == 1
    assert "service:bi may not grant ADMIN on project: it takes ADMIN" in err
    code, out, _ = afluente(shop, "--json", "roles")
    reader = next(r for r in json.loads(out)["roles"] if r["role"] == "reader")
    assert reader["grants"] == ["SELECT on silver.orders", "SELECT on silver.customers",
                                "SELECT on gold"]
    assert afluente(shop, "revoke", "select", "gold", "--from", "reader")[0] == 0
    assert afluente(shop, "show", "gold.revenue_by_state", token=token)[0] == 1
    code, _, err = afluente(shop, "revoke", "select", "silver.orders", "--from", "reader")
    assert code == 1
    assert "it is declared in afluente.yml: remove it there" in err


def test_grants_reads_and_denials_are_in_the_audit_log(shop: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    (root / ".afluente" / "audit.log").unlink(missing_ok=True)
    code, out, err = afluente(root, "--json", "token", "create", "--role", "reader",
                              "--name", "auditee")
    assert code == 0, err
    token = json.loads(out)["token"]
    assert afluente(root, "show", "gold.revenue_by_state", token=token)[0] == 1
    assert afluente(root, "grant", "select", "gold", "--to", "reader")[0] == 0
    assert afluente(root, "show", "silver.customers", token=token)[0] == 0
    assert afluente(root, "revoke", "select", "gold", "--from", "reader")[0] == 0
    code, out, err = afluente(root, "--json", "audit")
    assert code == 0, err
    entries = [(e["principal"], e["action"], e["object"]) for e in json.loads(out)]
    assert entries[0][1:] == ("key", "token service:auditee")
    assert entries[1:] == [
        ("service:auditee", "access_denied", "gold.revenue_by_state"),
        (entries[0][0], "grant", "gold"),
        ("service:auditee", "read", "silver.customers"),
        (entries[0][0], "revoke", "gold"),
    ]
    read = json.loads(out)[3]["detail"]
    assert read["masked"] == ["name"] and read["hidden"] == ["email"] and read["filtered"]
    code, _, err = afluente(root, "audit", "verify")
    assert code == 0, err


def test_masks_and_filter_on_the_scaffold(shop: Path) -> None:
    code, out, err = afluente(shop, "--json", "token", "create", "--role", "reader",
                              "--name", "etl")
    token = json.loads(out)["token"]
    code, out, err = afluente(shop, "--json", "query", "SELECT * FROM silver.customers "
                              "ORDER BY customer_id", token=token)
    assert code == 0, err
    # email is tagged pii and `reader` neither masks nor was granted it: left out
    assert json.loads(out) == [{"customer_id": 2, "name": "****", "uf": "RJ"},
                               {"customer_id": 9, "name": "****", "uf": "RJ"}]
    code, _, err = afluente(shop, "query", "SELECT email FROM silver.customers", token=token)
    assert code == 1
    assert "no SELECT grant on silver.customers.email (a column tagged pii" in err
    assert afluente(shop, "grant", "select", "silver.customers.email", "--to", "reader")[0] == 0
    code, out, err = afluente(shop, "--json", "query", "SELECT email FROM silver.customers "
                              "ORDER BY customer_id", token=token)
    assert json.loads(out) == [{"email": "bruno@example.com"}, {"email": "x@example.com"}]


def test_html_reports_escape_values(plain: Path, tmp_path: Path) -> None:
    page = tmp_path / "profile.html"
    code, _, err = afluente(plain, "profile", "silver.customers", "--html", str(page))
    assert code == 0, err
    html = page.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("redact", "123.456.789-09", "****"),
        ("partial", "123.456.789-09", "**********9-09"),
        ("partial", "abc", "abc"),
        ("partial", "ação1234", "****1234"),
        ("partial", "", ""),
        ("hmac", "ana@example.com", "computed by Python's hmac below"),
        ("hash", "ana@example.com", "computed by Python's hashlib below"),
        ("null", "123.456.789-09", None),
        ("redact", None, None),
    ],
)
def test_mask_values(plain: Path, kind: MaskKind, value: str | None, shown: str | None) -> None:
    if kind == "hmac":  # RFC 2104 HMAC-SHA256, as Python's hmac computes it
        shown = hmac.new(b"k3y", str(value).encode(), hashlib.sha256).hexdigest()
    if kind == "hash":  # SHA-256 of the key followed by the value
        shown = hashlib.sha256(b"k3y" + str(value).encode()).hexdigest()
    literal = "NULL" if value is None else f"'{value}'"
    sql = f"SELECT {mask_sql(kind, 'v', b'k3y')} AS m FROM (SELECT {literal} AS v)"
    assert query_project(load_project(plain), sql).to_pylist() == [{"m": shown}]


def test_year_mask_keeps_the_type(plain: Path) -> None:
    sql = f"SELECT {mask_sql('year', 'd')} AS m FROM (SELECT DATE '1990-05-17' AS d)"
    assert query_project(load_project(plain), sql).to_pylist() == [
        {"m": datetime.date(1990, 1, 1)}]


@pytest.mark.parametrize(
    ("block", "line", "message"),
    [
        ("governance:\n  roles:\n    a:\n      grants:\n        - selct: gold\n", 5,
         "governance.roles.a.grants.0.privilege"),
        ("governance:\n  roles:\n    a:\n      masks:\n        gold.t.c: scramble\n", 5,
         "scramble"),
        ("governance:\n  roles:\n    a:\n      members: [user:ana, 'bad name']\n", 4,
         "'bad name' is not a principal"),
        ("governance:\n  roles:\n    a:\n      row_filters:\n        t: \"x = 1\"\n", 4,
         "row filter key 't' must be layer.table"),
    ],
)
def test_governance_block_errors_name_the_line(tmp_path: Path, block: str, line: int,
                                               message: str) -> None:
    (tmp_path / "afluente.yml").write_text("name: p\n" + block)
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    assert caught.value.location is not None
    assert caught.value.location.line == line + 1
    assert message in caught.value.render()


def test_publish_as_a_reader_sends_what_the_reader_sees(plain: Path, postgres_url: str,
                                                        tmp_path: Path) -> None:
    from tests.sinks.conftest import fetch

    root = tmp_path / "shop"
    shutil.copytree(plain, root)
    with (root / "afluente.yml").open("a") as config:
        config.write(GOVERNANCE + f"sinks:\n  mart:\n    type: postgres\n    url: {postgres_url}\n"
                     "    schema: mart\n    tables:\n      - silver.customers\n")
    code, out, err = afluente(root, "--json", "token", "create", "--role", "reader",
                              "--name", "publisher")
    token = json.loads(out)["token"]
    code, out, err = afluente(root, "publish", token=token)  # a write: takes MODIFY
    assert code == 1
    assert "service:publisher has no MODIFY grant on silver.customers" in err
    assert afluente(root, "grant", "modify", "silver.customers", "--to", "reader")[0] == 0
    code, out, err = afluente(root, "publish", token=token)
    assert code == 0, err
    rows = fetch(postgres_url, "SELECT * FROM mart.customers ORDER BY customer_id")
    assert rows == [(2, "****", "RJ"), (9, "****", "RJ")]


MASKED_MODEL = """/* @config
columns:
  email: {tags: [pii], mask: hmac}
  name: {mask: partial}
*/
SELECT customer_id, name, email FROM silver.customers
"""


def test_write_time_masks_keep_raw_values_out_of_the_table(plain: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    root = tmp_path / "shop"
    shutil.copytree(plain, root)
    (root / "models" / "gold" / "contacts.sql").write_text(MASKED_MODEL)
    monkeypatch.setenv("AFLUENTE_MASK_KEY", "write-key")
    project = load_project(root)
    assert run_project(project, "gold.contacts").status == "success"
    rows = query_project(project, "SELECT * FROM gold.contacts WHERE customer_id = 2")
    assert rows.to_pylist() == [{
        "customer_id": 2, "name": "******Lima",
        "email": hmac.new(b"write-key", b"bruno@example.com", hashlib.sha256).hexdigest()}]
    stored = b"".join(p.read_bytes() for p in (root / "warehouse" / "gold" / "contacts")
                      .rglob("*.parquet"))
    assert b"bruno@example.com" not in stored and b"Bruno Lima" not in stored


def test_a_write_time_mask_on_a_missing_column_is_refused(plain: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(plain, root)
    model = root / "models" / "gold" / "contacts.sql"
    model.write_text(MASKED_MODEL.replace("name: {mask: partial}", "phone: {mask: redact}"))
    result = run_project(load_project(root), "gold.contacts")
    assert result.status == "failed"
    (failed,) = result.failed
    assert "gold.contacts: cannot mask phone on write: the model has no such column (it has " \
           "customer_id, name, email)" in str(failed.reason)
    assert not (root / "warehouse" / "gold" / "contacts").exists()


def test_building_a_table_takes_modify(shop: Path) -> None:
    code, out, err = afluente(shop, "--json", "token", "create", "--role", "reader",
                              "--name", "builder")
    token = json.loads(out)["token"]
    code, _, err = afluente(shop, "run", "--select", "silver.orders", token=token)
    assert code == 1
    assert "service:builder has no MODIFY grant on silver.orders" in err
    version = (shop / "warehouse" / "silver" / "orders" / "_delta_log")
    before = sorted(p.name for p in version.iterdir())
    assert afluente(shop, "grant", "modify", "silver.orders", "--to", "reader")[0] == 0
    code, _, err = afluente(shop, "run", "--select", "silver.orders", token=token)
    assert code == 0, err
    assert afluente(shop, "revoke", "modify", "silver.orders", "--from", "reader")[0] == 0
    assert sorted(p.name for p in version.iterdir()) >= before


def test_the_quality_report_escapes_failing_samples(plain: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(plain, root)
    model = root / "models" / "silver" / "customers.sql"
    model.write_text(model.read_text().replace(
        "/* @config\n",
        "/* @config\nexpectations:\n  - {name: no_markup, expression: \"name NOT LIKE '%<%'\","
        " action: warn}\n", 1))
    assert afluente(root, "check", "silver.customers")[0] == 0
    page = tmp_path / "quality.html"
    code, _, err = afluente(root, "quality", "--html", str(page))
    assert code == 0, err
    html = page.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html


def test_describe_and_fully_qualified_columns_read_through_the_rewrite(shop: Path) -> None:
    code, out, err = afluente(shop, "--json", "token", "create", "--role", "reader",
                              "--name", "shapes")
    token = json.loads(out)["token"]
    code, out, err = afluente(shop, "--json", "query", "DESCRIBE silver.customers", token=token)
    assert code == 0, err
    assert [r["column_name"] for r in json.loads(out)][:2] == ["customer_id", "name"]
    code, out, err = afluente(shop, "--json", "query", 'SELECT "silver"."customers".name, '
                              "silver.customers.uf FROM silver.customers ORDER BY 2, 1",
                              token=token)
    assert code == 0, err
    assert json.loads(out) == [{"name": "****", "uf": "RJ"}, {"name": "****", "uf": "RJ"}]
