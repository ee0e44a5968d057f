"""Each endpoint's values on the demo, compared with what the CLI's own functions give."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from tests.server.conftest import MASK_KEY, Served

from afluente.config import load_project
from afluente.model import TableRef, load_graph
from afluente.runtime.query import query_project
from afluente.storage import Warehouse


def get(served: Served, path: str, who: str = "admin", **params: Any) -> Any:
    with served.client(who) as client:
        answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_health_needs_no_token(served: Served) -> None:
    with served.client(None) as client:  # type: ignore[arg-type]
        assert client.get("/health").json() == {"status": "ok"}


def test_project_models_and_graph(served: Served) -> None:
    graph = load_graph(load_project(served.root))
    [project] = get(served, "/api/projects")
    assert project["name"] == "demo_shop" and project["tables"] == len(graph)
    assert project["layers"] == {"bronze": 8, "silver": 9, "gold": 9} and project["governed"]
    models = get(served, "/api/models")
    assert [m["table"] for m in models] == [str(r) for r in graph.order]
    orders = get(served, "/api/models/silver.orders")
    assert orders["upstream"] == ["bronze.orders"] and "gold.fct_orders" in orders["downstream"]
    shown = get(served, "/api/graph")
    assert shown["layers"] == ["bronze", "silver", "gold"]
    nodes = {n["id"]: n for n in shown["nodes"]}
    assert nodes["gold.fct_orders"]["layer"] == "gold"
    assert nodes["gold.fct_orders"]["kind"] == graph[graph.resolve("gold.fct_orders")].kind
    assert {n["status"]["status"] for n in shown["nodes"] if n["materialized"]} == {"success"}
    assert nodes["bronze.orders"]["freshness"]["status"] in ("ok", "warning", "error")
    edges = {(e["from"], e["to"]) for e in shown["edges"]}
    assert edges == {(str(up), str(ref)) for ref in graph.order for up in graph[ref].upstream}


def test_runs_model_runs_and_events(served: Served) -> None:
    runs = get(served, "/api/runs")
    first = runs[-1]
    assert first["status"] == "success" and first["selector"] is None
    detail = get(served, f"/api/runs/{first['run_id'][:12]}")
    assert detail["run_id"] == first["run_id"]
    built = {m["model"]: m for m in detail["models"]}
    assert built["gold.fct_orders"]["status"] == "success" and built["gold.fct_orders"]["rows"]
    events = get(served, f"/api/runs/{first['run_id']}/events")
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "run_finished"
    later = get(served, "/api/events", after=events[0]["id"], limit=2)
    assert [e["id"] for e in later] == [e["id"] for e in events[1:3]]


def test_unknown_run_is_404_with_recent_ids(served: Served) -> None:
    with served.client() as client:
        answer = client.get("/api/runs/20990101T000000-zzzzzz")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "recent runs" in answer.json()["hint"] or "did you mean" in answer.json()["hint"]


def test_schema_and_history(served: Served) -> None:
    schema = get(served, "/api/tables/gold.fct_orders/schema")
    names = [c["name"] for c in schema["columns"]]
    rows = query_project(load_project(served.root), "select * from gold.fct_orders limit 0")
    assert names == rows.column_names
    history = get(served, "/api/tables/gold.fct_orders/history")
    stored = Warehouse(load_project(served.root).warehouse_uri).history(
        TableRef("gold", "fct_orders"))
    assert [(h["version"], h["operation"], h["rows"]) for h in history] == [
        (c.version, c.operation, c.rows_added) for c in stored]
    assert history[-1]["run_id"] == get(served, "/api/runs")[-1]["run_id"]


def test_rows_page_by_offset_and_cursor(served: Served) -> None:
    whole = query_project(load_project(served.root), "select * from silver.orders").to_pylist()
    first = get(served, "/api/tables/silver.orders/rows", limit=7)
    assert [r["order_id"] for r in first["rows"]] == [r["order_id"] for r in whole[:7]]
    second = get(served, "/api/tables/silver.orders/rows", cursor=first["next_cursor"], limit=7)
    assert second["offset"] == 7 and second["version"] == first["version"]
    assert [r["order_id"] for r in second["rows"]] == [r["order_id"] for r in whole[7:14]]
    by_offset = get(served, "/api/tables/silver.orders/rows", offset=7, limit=7)
    assert by_offset["rows"] == second["rows"]
    last = get(served, "/api/tables/silver.orders/rows", offset=len(whole) - 2, limit=7)
    assert len(last["rows"]) == 2 and last["next_cursor"] is None


def test_rows_at_a_version_and_a_time(served: Served) -> None:
    history = get(served, "/api/tables/gold.dim_customer/history")
    oldest = history[-1]
    at_version = get(served, "/api/tables/gold.dim_customer/rows", version=oldest["version"])
    at_time = get(served, "/api/tables/gold.dim_customer/rows", as_of=oldest["timestamp"])
    assert at_version["version"] == at_time["version"] == oldest["version"]
    assert at_version["rows"] == at_time["rows"] and at_version["rows"]


def test_bad_table_and_version_are_404_with_closest(served: Served) -> None:
    with served.client() as client:
        table = client.get("/api/tables/gold.fct_ordrs/rows")
        version = client.get("/api/tables/gold.fct_orders/rows", params={"version": 40})
        cursor = client.get("/api/tables/gold.fct_orders/rows", params={"cursor": "nope"})
    assert table.status_code == 404 and "`gold.fct_orders`" in table.json()["hint"]
    assert table.json()["detail"] == "unknown table `gold.fct_ordrs`"
    assert version.status_code == 404
    assert "has no version 40" in version.json()["detail"]
    assert "pick a version from 0 to" in version.json()["hint"]
    assert cursor.status_code == 400 and "was not made by this API" in cursor.json()["detail"]


def test_query_reads_and_refuses_writes(served: Served) -> None:
    with served.client() as client:
        count = client.post("/api/query", json={"sql": "select count(*) as n from gold.fct_orders"})
        capped = client.post("/api/query", json={"sql": "select * from silver.orders -- all",
                                                 "max_rows": 3})
        refused = [client.post("/api/query", json={"sql": sql}).json() for sql in (
            "copy (select 1) to '/tmp/afluente-api-copy.csv'",
            "attach '/tmp/other.db' as other",
            "select * from read_csv('/etc/passwd')")]
    expected = query_project(load_project(served.root),
                             "select count(*) as n from gold.fct_orders").to_pylist()
    assert count.json() == {"columns": ["n"], "rows": expected, "truncated": False}
    assert len(capped.json()["rows"]) == 3 and capped.json()["truncated"] is True
    assert [r["status"] for r in refused] == [400, 400, 400]
    assert "read-only" in refused[0]["detail"] and "read-only" in refused[1]["detail"]
    assert "/etc/passwd" in refused[2]["detail"] or "outside" in refused[2]["detail"]


def _pseudonym(value: str) -> str:
    return hmac.new(MASK_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def test_analyst_reads_masked_values(served: Served) -> None:
    admin = get(served, "/api/tables/gold.dim_customer/rows", limit=50)["rows"]
    analyst = get(served, "/api/tables/gold.dim_customer/rows", "analyst", limit=50)["rows"]
    raw = {r["customer_key"]: r for r in admin}
    masked = [r for r in analyst if raw[r["customer_key"]]["cpf"]]
    assert masked and "name" not in analyst[0]  # a pii column without a mask: hidden
    for row in masked:
        original = raw[row["customer_key"]]
        assert row["cpf"] != original["cpf"] and row["cpf"].endswith(original["cpf"][-2:])
        assert "*" in row["cpf"]
        if original["email"]:
            assert row["email"] == _pseudonym(original["email"])
    with served.client("analyst") as client:
        queried = client.post("/api/query", json={
            "sql": f"select cpf from gold.dim_customer where customer_key = "
                   f"{masked[0]['customer_key']}"}).json()
        named = client.post("/api/query", json={"sql": "select name from gold.dim_customer"})
    assert queried["rows"] == [{"cpf": masked[0]["cpf"]}]
    assert named.status_code == 403 and "tagged pii" in named.json()["detail"]


def test_a_role_without_grants_gets_403_naming_the_grant(served: Served) -> None:
    with served.client("nobody") as client:
        answer = client.get("/api/tables/gold.fct_orders/rows")
        audit = client.get("/api/audit")
    assert answer.status_code == 403
    assert answer.json()["detail"] == "service:nobody has no SELECT grant on gold.fct_orders"
    assert "afluente grant select gold.fct_orders --to ROLE" in answer.json()["hint"]
    assert audit.status_code == 403 and "it takes ADMIN" in audit.json()["detail"]


def test_quality_and_quarantine(served: Served) -> None:
    quality = get(served, "/api/quality")
    assert quality["results"] and quality["failing"] == sum(
        not r["passed"] for r in quality["results"])
    models = {r["model"] for r in quality["results"]}
    assert {"silver.order_items", "gold.fct_orders"} <= models
    quarantined = [m for m in get(served, "/api/models") if m["materialized"]]
    pages = {m["table"]: get(served, f"/api/tables/{m['table']}/quarantine", limit=5)
             for m in quarantined if m["layer"] != "bronze"}
    stored = {t: p for t, p in pages.items() if p["version"] is not None}
    assert stored, "the demo quarantines rows of payments, products and order items"
    project = load_project(served.root)
    for table, page in stored.items():
        count = query_project(project, f"select count(*) as n from {table}__quarantine"
                              ).to_pylist()[0]["n"]
        assert len(page["rows"]) == min(5, count), table
        assert {"_rules", "_reason", "_run_id"} <= {c["name"] for c in page["columns"]}


def test_column_lineage(served: Served) -> None:
    found = get(served, "/api/lineage/gold.fct_orders.order_id")
    assert found["hops"]["root"] == "gold.fct_orders.order_id"
    assert "silver.orders.order_id" in found["hops"]["nodes"]
    down = get(served, "/api/lineage/silver.orders", direction="downstream")
    assert "gold.fct_orders" in down["hops"]["nodes"]
    with served.client() as client:
        missing = client.get("/api/lineage/gold.fct_orders.nope")
    assert missing.status_code == 404


def test_health_incidents_schedules_audit(served: Served) -> None:
    tables = get(served, "/api/observability/tables")
    assert {t["table"] for t in tables} >= {"gold.fct_orders", "silver.orders"}
    assert set(tables[0]["pillars"]) == {"freshness", "volume", "schema", "distribution",
                                         "lineage"}
    assert get(served, "/api/incidents") == [] or all(
        "pillar" in i for i in get(served, "/api/incidents"))
    schedules = {s["name"]: s for s in get(served, "/api/schedules")}
    assert set(schedules) == {"bronze_15m", "silver_hourly", "gold_daily", "orders_landed"}
    assert schedules["gold_daily"]["next_due"].endswith("-03:00")
    entries = get(served, "/api/audit", limit=5)
    assert len(entries) == 5 and entries[-1]["seq"] > entries[0]["seq"]
    assert get(served, "/api/whoami", "analyst") == {"principal": "service:bi",
                                                      "roles": ["analyst"], "admin": False}


def test_numbers_beyond_64_bits_are_refused_by_name(served: Served) -> None:
    """Ids, versions and offsets are 64-bit in the stores: a larger one is the request's
    422 naming the parameter (the fuzzer found a 500 here)."""
    huge = 2**64
    with served.client() as client:
        answers = {name: client.get(path, params={name: huge}) for name, path in (
            ("after", "/api/events"), ("offset", "/api/tables/gold.fct_orders/rows"),
            ("version", "/api/tables/gold.fct_orders/schema"))}
    for name, answer in answers.items():
        assert answer.status_code == 422, (name, answer.text)
        assert f"query.{name}: Input should be less than or equal to {2**63 - 1}" in \
            answer.json()["detail"]
