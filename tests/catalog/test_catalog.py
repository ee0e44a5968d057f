"""Catalog: tags inherited along lineage, search, and the static docs site in a real browser."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.browser import dump_dom
from tests.cli_inprocess import run_afluente

from afluente.config import load_project
from afluente.runtime import run_project

SILVER = """/* @config
description: Customers, cleaned.
owner: crm-team
tags: [crm]
columns:
  email: {description: Contact address, tags: [pii]}
*/
SELECT CAST(id AS INTEGER) AS id, trim(email) AS email, uf FROM bronze.customers
"""
CONTACTS = """/* @config
description: Who to write to.
tags: [mart]
freshness: {warn_after: 1h, error_after: 1d}
expectations:
  - {name: one_row_per_id, unique: id, action: fail}
  - {name: corporate_mail, regex: {column: email_lower, pattern: '@x[.]br$'}, action: warn}
*/
SELECT id, lower(email) AS email_lower, uf FROM silver.customers
"""
BY_UF = "SELECT uf, count(email) AS customers FROM silver.customers GROUP BY uf"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    (root / "landing").mkdir()
    (root / "landing" / "c.csv").write_text(
        "id,email,uf\n1, a@x.br ,SP\n2,b@y.br,RJ\n3,c@z.br,SP\n")
    for layer, name, sql in (("silver", "customers", SILVER), ("gold", "contacts", CONTACTS),
                             ("gold", "by_uf", BY_UF)):
        (root / "models" / layer).mkdir(parents=True, exist_ok=True)
        (root / "models" / layer / f"{name}.sql").write_text(sql)
    (root / "afluente.yml").write_text(
        "name: shop\nsources:\n  customers:\n    type: files\n    path: landing/*.csv\n"
        "    description: CRM export\n")
    assert run_project(load_project(root)).status == "success"
    return root


def afluente(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_afluente(["-p", str(root), *args])


def search(root: Path, term: str) -> list[dict[str, str]]:
    done = afluente(root, "--json", "catalog", "search", term)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_pii_tag_follows_transformations_but_not_aggregates(project: Path) -> None:
    hits = {(h["table"], h["column"]) for h in search(project, "pii")}
    assert hits == {("silver.customers", "email"), ("gold.contacts", "email_lower")}


def test_search_matches_names_descriptions_owners_and_tags(project: Path) -> None:
    assert search(project, "contact") == [  # in the order of the graph
        {"table": "silver.customers", "column": "email", "field": "description",
         "text": "Contact address"},
        {"table": "gold.contacts", "column": None, "field": "name", "text": "gold.contacts"},
    ]
    assert [h["table"] for h in search(project, "crm-team")] == ["silver.customers"]
    assert [h["table"] for h in search(project, "crm export")] == ["bronze.customers"]
    assert search(project, "no-such-thing") == []


def test_docs_build_writes_a_self_contained_site(project: Path, tmp_path: Path) -> None:
    done = afluente(project, "docs", "build", "--out", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    assert sorted(p.name for p in site.iterdir()) == ["data.js", "index.html", "site.css",
                                                       "site.js"]
    for page in site.iterdir():
        assert "http://" not in page.read_text().replace("http://www.w3.org/2000/svg", "")
    data = json.loads(site.joinpath("data.js").read_text().split("=", 1)[1].rstrip(";\n"))
    contacts = next(t for t in data["tables"] if t["name"] == "gold.contacts")
    assert contacts["rows"] == 3 and contacts["versions"][0]["version"] == 0
    assert contacts["freshness"]["status"] == "fresh"  # built a moment ago, warn after 1 h
    assert contacts["freshness"]["warn_after_hours"] == 1.0
    checks = {x["rule"]: (x["passed"], x["rows_failed"]) for x in contacts["expectations"]}
    assert checks == {"one_row_per_id": (True, 0), "corporate_mail": (False, 2)}
    assert {c["name"]: c["tags"] for c in contacts["columns"]}["email_lower"] == ["pii"]


def test_site_opens_in_chromium_and_the_gold_graph_shows_its_upstream(
    project: Path, tmp_path: Path
) -> None:
    assert afluente(project, "docs", "build", "--out", str(tmp_path / "site")).returncode == 0
    dom = dump_dom((tmp_path / "site" / "index.html").as_uri() + "#gold.contacts", tmp_path)
    assert '<h2 id="table-name">gold.contacts</h2>' in dom
    assert '<svg id="lineage-graph"' in dom
    for upstream in ("silver.customers", "bronze.customers", "source:customers"):
        assert f'data-table="{upstream}"' in dom
        assert f'href="#{upstream}"' in dom
    assert 'data-from="silver.customers" data-to="gold.contacts"' in dom
    assert "lower" in dom  # column lineage table: email_lower from silver.customers.email
    assert 'id="freshness"' in dom and "freshness: fresh" in dom
    assert '<table id="expectations">' in dom
    assert "corporate_mail" in dom and "one_row_per_id" in dom
