"""`afluente dashboard export` writes one file that headless Chromium opens from disk and
draws: a chart (ECharts' SVG) for each chart panel, the 27 states on the map, the funnel's
table, and nothing on the console."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser import dump_dom_and_console
from tests.cli_inprocess import run_afluente

from afluente.dashboards.export import embedded_page


def panel_html(dom: str, panel: str) -> str:
    start = dom.index(f'id="afl-chart-{panel}"')
    return dom[start:dom.index(f'id="afl-note-{panel}"', start)]


def test_the_exported_file_draws_its_charts_from_disk(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "export" / "revenue.html"
    done = run_afluente(["-p", str(demo), "dashboard", "export", "revenue", "--out", str(out)])
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    page = embedded_page(text)
    assert "<script src=" not in text and "<link" not in text  # everything inline

    dom, console = dump_dom_and_console(out.as_uri(), tmp_path)

    assert console == []
    assert "<h1>Receita / Revenue</h1>" in dom
    for panel in ("revenue_by_state", "revenue_by_month", "top_categories", "order_funnel"):
        drawn = panel_html(dom, panel)
        assert "<svg" in drawn, panel
        assert len(re.findall(r"<path ", drawn)) >= 2, panel
    states = panel_html(dom, "revenue_by_state")
    assert len(re.findall(r"<path ", states)) >= 27  # every UF's outline (and the legend)
    month_axis = panel_html(dom, "revenue_by_month")
    first_month = page["data"]["revenue_by_month"]["rows"][0][0]
    assert f">{first_month}</text>" in month_axis
    top = page["data"]["top_categories"]["rows"][0][0]
    assert f">{top}</text>" in panel_html(dom, "top_categories")
    table = panel_html(dom, "order_funnel_table")
    rows = re.findall(r"<tr>(.*?)</tr>", table)
    assert len(rows) == 1 + 5  # the header and the five stages
    assert "<td>delivered</td>" in rows[-1]
    assert '<select id="afl-filter-uf" name="uf" disabled="">' in dom  # fixed at export
