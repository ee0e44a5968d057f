"""The demo's roles through every read path: the ADMIN (the OS user owning afluente.yml)
reads raw values, an `analyst` token reads dim_customer's CPF partially masked and its
e-mail pseudonymised, an `sp_analyst` token reads only São Paulo's customers, a role with no
grant is refused with the grant it lacks and who can give it."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from tests.cli_inprocess import run_afluente

from afluente.config import load_project
from afluente.demo.build import prepare_demo
from afluente.governance.grants import AccessDenied
from afluente.runtime import run_project
from afluente.runtime.query import query_project

KEY = "demo-mask-key-for-tests"
CUSTOMER = "SELECT customer_id, cpf, email, uf FROM gold.dim_customer WHERE customer_id = {id} " \
           "AND is_current"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("governed") / "demo"
    prepare_demo(root, orders=200, seed=7)
    assert run_project(load_project(root)).status == "success"
    return root


def token(demo: Path, role: str, name: str) -> str:
    made = run_afluente(["--json", "-p", str(demo), "token", "create", "--role", role,
                         "--name", name])
    assert made.returncode == 0, made.stderr
    return str(json.loads(made.stdout)["token"])


@pytest.fixture(scope="module")
def tokens(demo: Path) -> dict[str, str]:
    return {role: token(demo, role, f"{role}_svc") for role in ("analyst", "sp_analyst", "nobody")}


def as_role(monkeypatch: pytest.MonkeyPatch, tokens: dict[str, str], role: str) -> None:
    monkeypatch.setenv("AFLUENTE_TOKEN", tokens[role])
    monkeypatch.setenv("AFLUENTE_MASK_KEY", KEY)


def cli(demo: Path, env: dict[str, str | None], *args: str) -> list[dict[str, object]]:
    done = run_afluente(["--json", "-p", str(demo), *args], env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def pseudonym(value: str) -> str:
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def partial(value: str) -> str:
    return "*" * (len(value) - 4) + value[-4:]


@pytest.fixture(scope="module")
def raw(demo: Path) -> list[dict[str, object]]:
    """Three current customers as the ADMIN reads them."""
    rows = query_project(load_project(demo),
                         "SELECT customer_id, cpf, email, uf FROM gold.dim_customer "
                         "WHERE is_current AND customer_id > 0 AND cpf IS NOT NULL "
                         "ORDER BY customer_id LIMIT 3").to_pylist()
    assert len(rows) == 3 and all(r["email"] for r in rows)
    return rows


def test_admin_reads_raw_values_through_query_and_show(demo: Path, raw: list[dict[str, object]]
                                                       ) -> None:
    first = raw[0]
    shown = cli(demo, {"AFLUENTE_TOKEN": None}, "query", CUSTOMER.format(id=first["customer_id"]))
    assert shown == [first]
    assert str(first["cpf"]).count("*") == 0


def test_analyst_query_masks_cpf_and_email(demo: Path, raw: list[dict[str, object]],
                                           tokens: dict[str, str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    as_role(monkeypatch, tokens, "analyst")
    for row in raw:
        got = query_project(load_project(demo), CUSTOMER.format(id=row["customer_id"]))
        assert got.to_pylist() == [{"customer_id": row["customer_id"],
                                    "cpf": partial(str(row["cpf"])),
                                    "email": pseudonym(str(row["email"])),
                                    "uf": row["uf"]}]


def test_pseudonyms_join_across_tables(demo: Path, raw: list[dict[str, object]],
                                       tokens: dict[str, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The same e-mail gives the same pseudonym wherever it is read: a self-join on it
    finds the customer."""
    as_role(monkeypatch, tokens, "analyst")
    sql = ("SELECT a.customer_id FROM gold.dim_customer a JOIN gold.dim_customer b "
           "ON a.email = b.email AND a.is_current AND b.is_current "
           f"WHERE b.email = '{pseudonym(str(raw[1]['email']))}'")
    assert query_project(load_project(demo), sql).to_pylist() == [
        {"customer_id": raw[1]["customer_id"]}]


def test_analyst_show_and_profile_are_masked(demo: Path, raw: list[dict[str, object]],
                                             tokens: dict[str, str]) -> None:
    env: dict[str, str | None] = {"AFLUENTE_TOKEN": tokens["analyst"], "AFLUENTE_MASK_KEY": KEY}
    rows = cli(demo, env, "show", "gold.dim_customer", "--limit", "1000")
    by_email = {r["email"] for r in rows}
    assert pseudonym(str(raw[0]["email"])) in by_email
    assert not any(str(r["email"]) == raw[0]["email"] for r in rows)
    assert "phone" not in rows[0] and "name" not in rows[0]  # pii, no grant, no mask: hidden
    cpfs = {r["cpf"] for r in rows if r["cpf"] is not None}
    assert partial(str(raw[0]["cpf"])) in cpfs and all(c.startswith("*") for c in cpfs)
    profiled = run_afluente(["--json", "-p", str(demo), "profile", "gold.dim_customer"], env=env)
    assert profiled.returncode == 0, profiled.stderr
    columns = {c["column"]: c for c in json.loads(profiled.stdout)["columns"]}
    assert "phone" not in columns
    assert all(str(value).startswith("*") for value, _ in columns["cpf"]["top"])
    assert str(raw[0]["cpf"]) not in profiled.stdout
    assert str(raw[0]["email"]) not in profiled.stdout


def test_sp_analyst_sees_only_sao_paulo_rows(demo: Path, tokens: dict[str, str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    admin = query_project(load_project(demo),
                          "SELECT customer_id FROM gold.dim_customer WHERE uf = 'SP' "
                          "ORDER BY customer_key").to_pylist()
    as_role(monkeypatch, tokens, "sp_analyst")
    seen = query_project(load_project(demo), "SELECT customer_id, uf, cpf, email FROM "
                         "gold.dim_customer ORDER BY customer_key").to_pylist()
    assert [{"customer_id": r["customer_id"]} for r in seen] == admin
    assert {(r["uf"], r["cpf"] in (None, "****"), r["email"] in (None, "****"))
            for r in seen} == {("SP", True, True)}


def test_a_read_without_a_grant_names_the_grant_and_the_admins(
        demo: Path, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    as_role(monkeypatch, tokens, "sp_analyst")
    with pytest.raises(AccessDenied) as denied:
        query_project(load_project(demo), "SELECT count(*) FROM gold.fct_orders")
    owner = Path(demo / "afluente.yml").owner()
    assert denied.value.message == "service:sp_analyst_svc has no SELECT grant on gold.fct_orders"
    assert f"ask an ADMIN (user:{owner})" in str(denied.value.hint)
    assert "afluente grant select gold.fct_orders --to ROLE" in str(denied.value.hint)
    done = run_afluente(["-p", str(demo), "query", "SELECT name FROM gold.dim_customer"],
                        env={"AFLUENTE_TOKEN": tokens["analyst"], "AFLUENTE_MASK_KEY": KEY})
    assert done.returncode == 1
    assert ("service:analyst_svc has no SELECT grant on gold.dim_customer.name (a column "
            "tagged pii needs a grant that names it)") in done.stderr


def test_a_role_nobody_declared_reads_nothing(demo: Path, tokens: dict[str, str]) -> None:
    done = run_afluente(["-p", str(demo), "show", "gold.dim_product"],
                        env={"AFLUENTE_TOKEN": tokens["nobody"]})
    assert done.returncode == 1
    assert "service:nobody_svc has no SELECT grant on gold.dim_product" in done.stderr


def test_quality_samples_are_hidden_from_the_analyst(demo: Path, tokens: dict[str, str]) -> None:
    env: dict[str, str | None] = {"AFLUENTE_TOKEN": tokens["analyst"]}
    admin = run_afluente(["--json", "-p", str(demo), "quality"])
    analyst = run_afluente(["--json", "-p", str(demo), "quality"], env=env)
    assert admin.returncode == analyst.returncode == 0, analyst.stderr
    admin_results = json.loads(admin.stdout)["results"]
    assert any(r["sample"] not in ("[]", None) for r in admin_results)  # the demo is dirty
    results = json.loads(analyst.stdout)["results"]
    assert len(results) == len(admin_results)
    assert {r["sample"] for r in results} == {"[]"}


def test_a_bad_token_is_refused_without_echoing_it(demo: Path, tokens: dict[str, str]) -> None:
    forged = tokens["analyst"][:-6] + "000000"
    done = run_afluente(["-p", str(demo), "query", "SELECT 1"], env={"AFLUENTE_TOKEN": forged})
    assert done.returncode == 1
    assert "the token in AFLUENTE_TOKEN is not known to this project" in done.stderr
    assert forged.split("_")[2] not in done.stderr + done.stdout


def test_tokens_are_stored_hashed(demo: Path, tokens: dict[str, str]) -> None:
    stored = (demo / ".afluente" / "state.db").read_bytes()
    for value in tokens.values():
        assert value.split("_")[2].encode() not in stored
        assert hashlib.sha256(value.split("_")[2].encode()).hexdigest().encode() in stored


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "may not call read_csv()"),
        ("SELECT * FROM '/etc/passwd'", "names tables as layer.table, not '/etc/passwd'"),
        ("SELECT cpf FROM '{warehouse}/gold/dim_customer/*.parquet'",
         "names tables as layer.table, not '{warehouse}/gold/dim_customer/*.parquet'"),
        ("SELECT cpf FROM __afluente_gold__dim_customer",  # the Spark engine's view name
         "names tables as layer.table, not '__afluente_gold__dim_customer'"),
        ("WITH c AS (SELECT cpf FROM gold.dim_customer) SELECT * FROM c, dim_customer",
         "names tables as layer.table, not 'dim_customer'"),
        ("SELECT * FROM query_table('gold.dim_customer')", "may not call query_table()"),
        ("SELECT * FROM query('SELECT cpf FROM gold.dim_customer')", "may not call query()"),
        ("SUMMARIZE gold.dim_customer", "may only run a query"),
        ("COPY gold.dim_customer TO '/tmp/x.csv'", "read-only statements only; got COPY"),
        ("ATTACH '/tmp/other.db' AS other", "read-only statements only; got ATTACH"),
        ("INSTALL httpfs", "read-only statements only; got LOAD"),
        ("LOAD httpfs", "read-only statements only; got LOAD"),
        ("SELECT * FROM read_parquet('{warehouse}/gold/dim_customer/*.parquet')",
         "may not call read_parquet()"),
    ],
)
def test_intrusion_as_a_non_admin(demo: Path, tokens: dict[str, str], sql: str, says: str
                                  ) -> None:
    text = sql.format(warehouse=demo / "warehouse")
    says = says.format(warehouse=demo / "warehouse")
    done = run_afluente(["-p", str(demo), "query", text],
                        env={"AFLUENTE_TOKEN": tokens["analyst"], "AFLUENTE_MASK_KEY": KEY})
    assert done.returncode == 1
    assert says in done.stderr
    assert not Path("/tmp/x.csv").exists()
