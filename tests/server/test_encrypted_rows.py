"""The REST API's row pages over a table whose personal columns are stored encrypted: they are
opened as the governed reader opens them for `query` and `show` — plaintext for a granted
caller, the mask of the plaintext for a masked one, hidden for one without the grant — and
`profile` (the CLI) sees the same."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.server.live import serving

from afluente.cli.scaffold import scaffold
from afluente.config import load_project
from afluente.governance.identity import create_token
from afluente.governance.key_admin import init_keys
from afluente.runtime import run_project
from afluente.state.access_state import AccessStore
from cli_inprocess import run_afluente

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


@dataclass(frozen=True)
class Encrypted:
    root: Path
    url: str
    tokens: dict[str, str]

    def rows(self, who: str, table: str = "silver.customers") -> list[dict[str, object]]:
        with httpx.Client(base_url=self.url, timeout=120,
                          headers={"Authorization": f"Bearer {self.tokens[who]}"}) as client:
            answer = client.get(f"/api/tables/{table}/rows", params={"limit": 10})
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, object]] = answer.json()["rows"]
        return sorted(rows, key=lambda r: str(r.get("customer_id")))


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Encrypted]:
    """The scaffold with its e-mails and names encrypted, built, served by uvicorn."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AFLUENTE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    root = tmp_path_factory.mktemp("encrypted_api") / "shop"
    scaffold(root)
    with (root / "afluente.yml").open("a") as config:
        config.write(GOVERNANCE)
    project = load_project(root)
    init_keys(project)
    assert run_project(project).status == "success"
    with AccessStore.open(project.state_url) as store:
        store.grant("platform", "ADMIN", "project", "tests")
        tokens = {role: create_token(store, f"service:{role}", role, "tests")
                  for role in ("platform", "reader", "masker")}
    try:
        with serving(root) as url:
            yield Encrypted(root, url, tokens)
    finally:
        mp.undo()


def test_a_granted_caller_reads_the_encrypted_columns_opened(encrypted: Encrypted) -> None:
    rows = encrypted.rows("platform")
    assert [(r["customer_id"], r["email"], r["name"]) for r in rows] == [
        (1, "ana@example.com", "ana souza"), (2, "bruno@example.com", "Bruno Lima"),
        (3, "carla@example.com", "carla dias")]
    bronze = encrypted.rows("platform", "bronze.customers")
    assert {str(r["email"]).lower() for r in bronze} == {
        "ana@example.com", "bruno@example.com", "carla@example.com"}


def test_a_masked_caller_gets_the_mask_of_the_plaintext(encrypted: Encrypted) -> None:
    rows = encrypted.rows("masker")
    assert [r["email"] for r in rows] == ["***********.com", "*************.com",
                                          "*************.com"]


def test_a_caller_without_the_grant_gets_no_column_and_no_ciphertext(
        encrypted: Encrypted) -> None:
    rows = encrypted.rows("reader")
    assert [(r["customer_id"], r["uf"]) for r in rows] == [(1, "SP"), (2, "RJ"), (3, "MG")]
    assert "email" not in rows[0]
    assert not [v for r in rows for v in r.values() if isinstance(v, str) and
                v.startswith(("01", "02", "03")) and len(v) > 40]  # no hex of a ciphertext


def test_profile_sees_plaintext_for_a_granted_caller_and_the_mask_for_a_masked_one(
        encrypted: Encrypted) -> None:
    def profile(role: str) -> dict[str, dict[str, object]]:
        done = run_afluente(["-p", str(encrypted.root), "--json", "profile",
                             "silver.customers"], env={"AFLUENTE_TOKEN": encrypted.tokens[role]})
        assert done.returncode == 0, done.stderr
        return {c["column"]: c for c in json.loads(done.stdout)["columns"]}

    granted = profile("platform")["email"]
    assert (granted["type"], granted["min"], granted["max"], granted["distinct"]) == (
        "VARCHAR", "ana@example.com", "carla@example.com", 3)
    masked = profile("masker")["email"]
    assert (masked["min"], masked["max"]) == ("*************.com", "***********.com")
    assert "email" not in profile("reader")
