"""A personal column copied downstream without a tag (a gold table, a view over it) is
personal data to the governed reader: hidden by default, shown with the mask a role
declares on the tagged column it comes from, raw to an ADMIN — through `query` and `show`
(`show` reads stored tables; a view is read through `query`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.runtime import run_project

COPY = "SELECT customer_id, email, uf FROM silver.customers\n"
# a second model reading the bronze column that silver's tagged `email` is cleaned from
FROM_BRONZE = "SELECT CAST(customer_id AS INTEGER) AS customer_id, trim(email) AS contact, " \
    "upper(uf) AS uf FROM bronze.customers\n"
VIEW = "/* @config\nkind: view\n*/\nSELECT customer_id, upper(email) AS mail FROM gold.contacts\n"
GOVERNANCE = """
governance:
  roles:
    reader:
      grants: [select: gold]
    masker:
      grants: [select: gold]
      masks: {silver.customers.email: partial}
    granted:
      grants: [select: gold, select: gold.contacts.email]
"""
RAW = [{"customer_id": 1, "email": "ana@example.com", "uf": "SP"},
       {"customer_id": 2, "email": "bruno@example.com", "uf": "RJ"}]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scaffold with an untagged copy of `silver.customers.email` in gold and a view
    over the copy, built, then governed."""
    root = tmp_path_factory.mktemp("lineage_reads") / "shop"
    scaffold(root)
    (root / "models" / "gold" / "contacts.sql").write_text(COPY)
    (root / "models" / "gold" / "contacts_view.sql").write_text(VIEW)
    (root / "models" / "gold" / "contacts_from_bronze.sql").write_text(FROM_BRONZE)
    assert run_project(load_project(root)).status == "success"
    with (root / "afluente.yml").open("a") as config:
        config.write(GOVERNANCE)
    return root


@pytest.fixture(scope="module")
def tokens(shop: Path) -> dict[str, str]:
    found = {}
    for role in ("reader", "masker", "granted"):
        done = run_afluente(["-p", str(shop), "--json", "token", "create", "--role", role,
                             "--name", role])
        assert done.returncode == 0, done.stderr
        found[role] = json.loads(done.stdout)["token"]
    return found


def read(root: Path, *args: str, token: str | None = None) -> list[dict[str, object]]:
    done = run_afluente(["-p", str(root), "--json", *args], env={"AFLUENTE_TOKEN": token})
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def first_two(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return sorted(rows, key=lambda r: int(str(r["customer_id"])))[:2]


def test_the_admin_reads_the_copy_and_the_view_raw(shop: Path) -> None:
    assert read(shop, "query", "SELECT * FROM gold.contacts ORDER BY customer_id")[:2] == RAW
    assert first_two(read(shop, "show", "gold.contacts")) == RAW
    assert first_two(read(shop, "query", "SELECT * FROM gold.contacts_view")) == [
        {"customer_id": 1, "mail": "ANA@EXAMPLE.COM"},
        {"customer_id": 2, "mail": "BRUNO@EXAMPLE.COM"}]


def test_a_copy_without_a_tag_is_hidden_from_a_role_without_a_mask(
        shop: Path, tokens: dict[str, str]) -> None:
    token = tokens["reader"]
    rows = read(shop, "query", "SELECT * FROM gold.contacts ORDER BY customer_id", token=token)
    assert rows[:2] == [{"customer_id": 1, "uf": "SP"}, {"customer_id": 2, "uf": "RJ"}]
    assert first_two(read(shop, "show", "gold.contacts", token=token)) == rows[:2]
    assert first_two(read(shop, "query", "SELECT * FROM gold.contacts_view", token=token)) == [
        {"customer_id": 1}, {"customer_id": 2}]
    for sql, column in (("SELECT email FROM gold.contacts", "gold.contacts.email"),
                        ("SELECT mail FROM gold.contacts_view", "gold.contacts_view.mail")):
        done = run_afluente(["-p", str(shop), "query", sql], env={"AFLUENTE_TOKEN": token})
        assert done.returncode == 1
        assert f"no SELECT grant on {column} (a column tagged pii" in done.stderr
        assert "example.com" not in done.stdout + done.stderr


def test_the_mask_on_the_tagged_column_applies_to_its_copies(
        shop: Path, tokens: dict[str, str]) -> None:
    token = tokens["masker"]
    rows = read(shop, "query", "SELECT customer_id, email FROM gold.contacts "
                "ORDER BY customer_id", token=token)
    assert rows[:2] == [{"customer_id": 1, "email": "***********.com"},
                        {"customer_id": 2, "email": "*************.com"}]
    assert first_two(read(shop, "query", "SELECT * FROM gold.contacts_view", token=token)) == [
        {"customer_id": 1, "mail": "***********.COM"},
        {"customer_id": 2, "mail": "*************.COM"}]


def test_a_grant_naming_the_copy_reads_it_raw(shop: Path, tokens: dict[str, str]) -> None:
    rows = read(shop, "query", "SELECT * FROM gold.contacts ORDER BY customer_id",
                token=tokens["granted"])
    assert rows[:2] == RAW


def test_the_personal_columns_are_cached_until_a_tag_changes(
        shop: Path, tokens: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The lineage is worked out once and kept (`governance/pii_cache.py`); a tag added to
    a model is seen by the next read."""
    import shutil

    from afluente.governance import reader

    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    token = tokens["reader"]
    sql = "SELECT customer_id, uf FROM gold.contacts ORDER BY customer_id"
    assert read(root, "query", sql, token=token)[:2] == [
        {"customer_id": 1, "uf": "SP"}, {"customer_id": 2, "uf": "RJ"}]
    assert (root / ".afluente" / "cache" / "pii-columns.json").is_file()

    def no_lineage(*args: object) -> None:
        raise AssertionError("the cached personal columns were not used")

    monkeypatch.setattr(reader, "_lineage_pii", no_lineage)
    assert read(root, "query", sql, token=token)[:1] == [{"customer_id": 1, "uf": "SP"}]
    monkeypatch.undo()

    model = root / "models" / "silver" / "customers.sql"
    model.write_text(model.read_text().replace(
        '  email: {description: "Lower-cased e-mail", tags: [pii]}',
        '  email: {description: "Lower-cased e-mail", tags: [pii]}\n  uf: {tags: [pii]}'))
    done = run_afluente(["-p", str(root), "query", sql], env={"AFLUENTE_TOKEN": token})
    assert done.returncode == 1
    assert "no SELECT grant on gold.contacts.uf (a column tagged pii" in done.stderr


def test_a_copy_read_from_the_bronze_source_of_a_tagged_column_is_personal_too(
        shop: Path, tokens: dict[str, str]) -> None:
    """`silver.customers.email` (tagged) is `lower(email)` of `bronze.customers.email` alone,
    so the bronze column holds the same e-mails, and so does a gold model reading it
    directly; `uf` (not personal) stays readable."""
    sql = "SELECT customer_id, contact FROM gold.contacts_from_bronze ORDER BY customer_id"
    done = run_afluente(["-p", str(shop), "query", sql],
                        env={"AFLUENTE_TOKEN": tokens["reader"]})
    assert done.returncode == 1
    assert "no SELECT grant on gold.contacts_from_bronze.contact (a column tagged pii" in (
        done.stderr)
    assert "example.com" not in done.stdout + done.stderr
    rows = read(shop, "query", "SELECT customer_id, uf FROM gold.contacts_from_bronze "
                "ORDER BY customer_id", token=tokens["reader"])
    assert rows[:2] == [{"customer_id": 1, "uf": "SP"}, {"customer_id": 2, "uf": "RJ"}]
    masked = read(shop, "query", sql, token=tokens["masker"])
    raw = read(shop, "query", sql)  # the ADMIN: bronze's values as they landed
    assert [r["contact"] for r in raw[:2]] != [r["contact"] for r in masked[:2]]
    # the mask declared on silver's e-mail (partial: all but the last 4 starred)
    assert masked == [{"customer_id": r["customer_id"],
                       "contact": "*" * (len(str(r["contact"])) - 4) + str(r["contact"])[-4:]}
                      for r in raw]
