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


STACKED = """\
title: Stacked
locale: en-US
panels:
  by_state:
    title: Revenue of SP and RJ by month
    chart: area
    stack: true
    query: |
      SELECT month, uf, gross_revenue FROM gold.revenue_by_state_month
      WHERE uf IN ('SP', 'RJ') AND month IS NOT NULL ORDER BY month, uf
    x: month
    y: gross_revenue
    series: uf
  share:
    title: Share of SP
    chart: bar
    query: |
      SELECT 'SP' AS uf, sum(gross_revenue) FILTER (WHERE uf = 'SP') / sum(gross_revenue)
             AS share
      FROM gold.revenue_by_state_month
    x: uf
    y: share
    format: {kind: percent, decimals: 1}
"""


def test_a_stacked_area_split_by_series_and_a_percent_axis(demo: Path, tmp_path: Path) -> None:
    file = demo / "dashboards" / "stacked.yml"
    file.write_text(STACKED, encoding="utf-8")
    out = tmp_path / "stacked.html"
    try:
        done = run_afluente(["-p", str(demo), "dashboard", "export", "stacked", "--out",
                             str(out)])
    finally:
        file.unlink()
    assert done.returncode == 0, done.stderr
    share = float(embedded_page(out.read_text(encoding="utf-8"))["data"]["share"]["rows"][0][1])

    dom, console = dump_dom_and_console(out.as_uri(), tmp_path)

    assert console == []
    area = panel_html(dom, "by_state")
    assert ">SP</text>" in area and ">RJ</text>" in area  # the legend: one series per state
    assert len(re.findall(r'<path [^>]*fill-opacity="0.7"', area)) == 2  # two filled areas
    bars = panel_html(dom, "share")
    written = re.findall(r">([0-9.,]+)%</text>", bars)  # the value axis, as percentages
    assert written and all(re.fullmatch(r"\d+\.\d", x) for x in written)  # 1 decimal
    labels = [float(x) for x in written]
    assert labels[0] == 0.0 and labels[-1] >= share * 100 > labels[-2]  # the axis reaches it
    assert ">Exported at " in dom  # en-US: the English labels
