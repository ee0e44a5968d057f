"""The UI in the system Chromium over a real `afluente serve` of the demo: the graph draws
every model, a table's page shows its Delta history, time travel shows an older version's
rows, a run's page draws its timeline and its retry says what the CLI says; no page logs a
console error. Screenshots are saved under the test's tmp dir (and copied to docs/img/)."""

from __future__ import annotations

import json
import re
from collections import Counter

import httpx
from tests.cli_inprocess import run_afluente
from tests.ui.conftest import NEW_NAME, OLD_NAME, Tab, UiServer

from afluente.config import load_project
from afluente.model import TableRef, load_graph
from afluente.state import StateStore
from afluente.storage import Warehouse


def test_graph_renders_every_model_and_opens_a_table(tab: Tab, ui_server: UiServer) -> None:
    graph = load_graph(load_project(ui_server.root))
    page = tab.page
    drawn = page.eval_on_selector_all("#pipeline .node", "ns => ns.map(n => n.dataset.id)")
    assert sorted(drawn) == sorted(str(r) for r in graph.order)
    titles = page.eval_on_selector_all("#pipeline .group-title", "ts => ts.map(t => t.textContent)")
    assert titles == ["bronze", "silver", "gold"]
    layer_x = {t: page.get_attribute(f'#pipeline .node[data-id="{t}"] rect', "x")
               for t in ("bronze.orders", "silver.orders", "gold.fct_orders")}
    assert float(layer_x["bronze.orders"]) < float(layer_x["silver.orders"]) < float(
        layer_x["gold.fct_orders"])
    built = page.get_attribute('#pipeline .node[data-id="gold.dim_seller"]', "class")
    assert "st-success" in built  # its last model run (the rebuild) succeeded
    tab.shot("ui-graph")
    page.fill("#graph-search", "fct_")
    matched = page.eval_on_selector_all("#pipeline .node.match", "ns => ns.map(n => n.dataset.id)")
    assert sorted(matched) == sorted(str(r) for r in graph.order if "fct_" in str(r))
    page.click('#pipeline .node[data-id="gold.fct_orders"]')
    page.wait_for_url(re.compile(r".*/ui/tables/gold\.fct_orders$"))
    history = page.eval_on_selector_all("#history tbody tr", "rs => rs.map(r => r.dataset.version)")
    stored = Warehouse(load_project(ui_server.root).warehouse_uri).history(
        TableRef("gold", "fct_orders"))
    assert [int(v) for v in history] == [c.version for c in stored]
    schema = page.eval_on_selector_all("#schema tbody td:first-child",
                                       "cs => cs.map(c => c.textContent)")
    assert "order_id" in schema
    tab.shot("ui-table")


def _seller_names(tab: Tab) -> set[tuple[str, str]]:
    """(seller_id, name) of the row browser's rows."""
    rows = tab.page.eval_on_selector_all(
        "#rows-table tbody tr",
        "rs => rs.map(r => [r.cells[1].textContent, r.cells[2].textContent])")
    return {(str(r[0]), str(r[1])) for r in rows}


def test_time_travel_shows_an_older_versions_rows(tab: Tab, ui_server: UiServer) -> None:
    warehouse = Warehouse(load_project(ui_server.root).warehouse_uri)
    ref = TableRef("gold", "dim_seller")
    tab.open("/ui/tables/gold.dim_seller")
    page = tab.page
    assert page.get_attribute("#rows-caption", "data-version") == "1"
    latest = _seller_names(tab)
    assert ("-1", NEW_NAME) in latest and ("-1", OLD_NAME) not in latest
    page.select_option("#tt-version", "0")
    page.click("#time-travel button[type=submit]")
    page.wait_for_selector('#rows-caption[data-version="0"]')
    older = _seller_names(tab)
    assert ("-1", OLD_NAME) in older and ("-1", NEW_NAME) not in older
    at_zero = warehouse.open(ref, version=0).to_pyarrow_table().to_pylist()
    assert older == {(str(r["seller_id"]), r["name"]) for r in at_zero}
    assert page.url.endswith("/ui/tables/gold.dim_seller")  # htmx swapped the rows only
    page.evaluate("document.getElementById('travel').scrollIntoView()")
    tab.shot("ui-time-travel")
    page.select_option("#tt-version", "")
    page.fill("#tt-as-of", "2001-01-01T00:00:00Z")
    page.click("#time-travel button[type=submit]")
    page.wait_for_selector("#rows .problem")
    assert "did not exist as of" in page.inner_text("#rows .problem .detail")
    assert page.locator("#rows header").count() == 0  # the message, not a page in a page
    assert tab.errors == ["Failed to load resource: the server responded with a status of "
                          "404 (Not Found)"]  # the answer to that request, and nothing else
    tab.errors.clear()


def test_a_version_that_does_not_exist_says_so_on_the_page(tab: Tab) -> None:
    answer = tab.page.goto(tab.url + "/ui/tables/gold.dim_seller?version=40")
    assert answer is not None and answer.status == 404
    assert "has no version 40" in tab.page.inner_text(".problem .detail")
    assert "pick a version from 0 to 1" in tab.page.inner_text(".problem .hint")
    assert tab.errors == ["Failed to load resource: the server responded with a status of "
                          "404 (Not Found)"]  # the page's own status, and nothing else
    tab.errors.clear()


def test_run_page_draws_its_timeline_and_retry_answers(tab: Tab, ui_server: UiServer) -> None:
    with StateStore.open(load_project(ui_server.root).state_url) as state:
        first = state.list_runs(10)[-1]
    tab.open("/ui/runs")
    page = tab.page
    page.click(f'a[href$="/ui/runs/{first.run_id}"]')
    page.wait_for_url(re.compile(f".*/ui/runs/{first.run_id}$"))
    bars = page.eval_on_selector_all("#gantt g.node title", "ts => ts.map(t => t.textContent)")
    assert len(bars) == len(first.models)
    assert {b.split(" · ")[0] for b in bars} == {m.model for m in first.models}
    events = page.eval_on_selector_all("#events li", "ls => ls.map(l => l.textContent)")
    assert "run_started" in events[0] and "run_finished" in events[-1]
    page.click("#retry")
    page.wait_for_selector("#action-result .ok-box")
    assert page.inner_text("#action-result") == f"nothing to retry ({first.run_id})"
    tab.shot("ui-run")


def test_schedules_health_and_portuguese_labels(tab: Tab, ui_server: UiServer) -> None:
    project = load_project(ui_server.root)
    tab.open("/ui/schedules")
    names = tab.page.eval_on_selector_all("#triggers tbody tr td:first-child",
                                          "cs => cs.map(c => c.textContent)")
    assert names == [*project.config.schedules, *project.config.sensors]
    tab.open("/ui/health?lang=pt")
    assert tab.page.inner_text("h1") == "Saúde"
    assert tab.page.get_attribute("html", "lang") == "pt-BR"
    tables = tab.page.eval_on_selector_all("#health tbody tr td:first-child",
                                           "cs => cs.map(c => c.textContent)")
    assert len(tables) == len(load_graph(project))
    tab.open("/ui/runs")  # the language stays chosen (a cookie)
    assert tab.page.inner_text("h1") == "Execuções"
    tab.shot("ui-health")


def test_lineage_graph_links_to_the_upstream_column(tab: Tab) -> None:
    tab.open("/ui/tables/gold.fct_orders?column=order_id")
    page = tab.page
    nodes = page.eval_on_selector_all("#lineage .node", "ns => ns.map(n => n.dataset.id)")
    assert {"gold.fct_orders.order_id", "silver.orders.order_id",
            "bronze.orders.order_id"} <= set(nodes)
    page.click('#lineage .node[data-id="silver.orders.order_id"]')
    page.wait_for_url(re.compile(r".*/ui/tables/silver\.orders\?column=order_id#lineage$"))
    root = page.get_attribute('#lineage .node[data-id="silver.orders.order_id"]', "class")
    assert "root" in root
    tab.shot("ui-lineage")


def test_the_graph_follows_a_run_live(tab: Tab, ui_server: UiServer) -> None:
    """A run started elsewhere (here through the API, as a terminal or the scheduler would)
    shows on the open graph page as its events arrive (server-sent events)."""
    page = tab.page
    page.wait_for_selector('body[data-live="open"]')
    with httpx.Client(base_url=ui_server.url, timeout=300,
                      headers={"Authorization": f"Bearer {ui_server.token}"}) as client:
        started = client.post("/api/runs", json={"select": "gold.dim_date",
                                                 "full_refresh": True})
        assert started.status_code == 202, started.text
        job = client.get(f"/api/jobs/{started.json()['job_id']}", params={"wait": 300})
    assert job.json()["status"] == "succeeded"
    page.wait_for_function("document.getElementById('live-note').textContent"
                           ".includes('run_finished')", timeout=120_000)
    assert "st-success" in page.get_attribute('#pipeline .node[data-id="gold.dim_date"]',
                                              "class")


def test_a_bad_selection_started_from_the_page_shows_the_cli_error(tab: Tab,
                                                                   ui_server: UiServer) -> None:
    tab.open("/ui/runs")
    page = tab.page
    page.fill("#run-select", "gold.dim_sellr")
    page.click("#start-run button[type=submit]")
    page.wait_for_selector("#action-result .problem")
    done = run_afluente(["--json", "-p", str(ui_server.root), "run", "--select",
                         "gold.dim_sellr"], env={"AFLUENTE_TOKEN": ui_server.token})
    said = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    detail, _, hint = said.partition("\n  hint: ")
    assert page.inner_text("#action-result .detail") == detail
    assert page.inner_text("#action-result .hint") == f"hint: {hint}"
    assert "did you mean" in hint
    assert tab.errors == ["Failed to load resource: the server responded with a status of "
                          "400 (Bad Request)"]  # the answer to the POST, and nothing else
    tab.errors.clear()
    tab.shot("ui-run-error")


UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, button, a')).filter(e =>
    !(e.labels && e.labels.length) && !e.getAttribute('aria-label') &&
    !e.textContent.trim()).map(e => e.outerHTML)"""


def test_the_keyboard_alone_zooms_the_graph_and_opens_a_table(tab: Tab) -> None:
    page = tab.page
    for path in ("/ui/", "/ui/tables/gold.fct_orders", "/ui/runs"):
        tab.open(path)
        assert page.evaluate(UNLABELLED) == [], path  # every control says what it is
    tab.open("/ui/")
    page.focus("#pipeline")
    before = float(page.get_attribute("#pipeline", "viewBox").split()[2])
    page.keyboard.press("+")
    after = float(page.get_attribute("#pipeline", "viewBox").split()[2])
    assert after < before  # zoomed in: the view is narrower
    page.keyboard.press("Tab")  # from the graph to its first table
    first = page.evaluate("document.activeElement.dataset.id")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/ui/tables/{re.escape(first)}$"))
    assert page.inner_text("h1").startswith(first)


def test_the_quarantine_shows_each_row_with_its_reason(tab: Tab, ui_server: UiServer) -> None:
    stored = Warehouse(load_project(ui_server.root).warehouse_uri).open(
        TableRef("silver", "products__quarantine")).to_pyarrow_table().to_pylist()
    assert stored
    tab.open("/ui/tables/silver.products")
    page = tab.page
    header = page.eval_on_selector_all("#quarantine thead th", "hs => hs.map(h => h.textContent)")
    reason = header.index("_reason")
    shown = page.eval_on_selector_all(
        "#quarantine tbody tr", f"rs => rs.map(r => r.cells[{reason}].textContent)")
    assert len(shown) == min(50, len(stored))  # the first page of them
    assert not Counter(shown) - Counter(r["_reason"] for r in stored)
    assert all("price_positive" in text for text in shown)
    failed = page.inner_text("#quality tbody tr:has(th:text-is('price_positive'))")
    assert f"failed {len(stored)}/" in failed
