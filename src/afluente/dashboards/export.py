"""`afluente dashboard export`: one HTML file holding the dashboard's data (queried now, as
the caller), ECharts, the map of Brazil and the drawing script, so it opens from disk with
no server and no network."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import afluente
from afluente.config import Project
from afluente.dashboards.filters import filter_values
from afluente.dashboards.page_data import dashboard_json
from afluente.dashboards.panel_data import filter_choices, panel_data
from afluente.dashboards.spec import Dashboard

if TYPE_CHECKING:
    from afluente.governance.reader import GovernedReader

#: The server's static files (afluente.server.ui), which the page and the export share.
STATIC = Path(afluente.__file__).parent / "server" / "ui" / "static"
ECHARTS = STATIC / "vendor" / "echarts.min.js"
BRAZIL_MAP = STATIC / "vendor" / "brazil-states.svg"
SCRIPT = STATIC / "dashboard.js"
STYLE = STATIC / "dashboard.css"


def static_dashboard(project: Project, dashboard: Dashboard, given: Mapping[str, str | None],
                     reader: GovernedReader | None = None,
                     progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The page data with every panel's rows (filters at `given`, else their defaults)."""
    values = filter_values(dashboard, given)
    choices = {name: filter_choices(project, dashboard, name, reader)
               for name in dashboard.filters}
    page = dashboard_json(dashboard, choices, values)
    data: dict[str, Any] = {}
    for name in dashboard.panels:
        data[name] = panel_data(project, dashboard, name, values, reader).as_json()
        if progress is not None:
            progress(name)
    needs_map = any(p.chart == "map" for p in dashboard.panels.values())
    return {**page, "mode": "static", "data": data,
            "exported_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "map_svg": BRAZIL_MAP.read_text(encoding="utf-8") if needs_map else None}


def export_html(page: Mapping[str, Any]) -> str:
    """The whole file for `static_dashboard`'s page data."""
    payload = _script_text(json.dumps(page, ensure_ascii=False))
    lang = html.escape(str(page.get("locale") or "pt-BR"))
    return "\n".join([
        "<!doctype html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="afluente dashboard export">',
        f"<title>{html.escape(str(page['title']))}</title>",
        f"<style>\n{STYLE.read_text(encoding='utf-8')}</style>",
        '</head><body><main id="afluente-dashboard"></main>',
        f"<script>\n{_script_text(ECHARTS.read_text(encoding='utf-8'))}\n</script>",
        f'<script id="afluente-dashboard-data">window.AFLUENTE_DASHBOARD = {payload};</script>',
        f"<script>\n{_script_text(SCRIPT.read_text(encoding='utf-8'))}\n</script>",
        "</body></html>", ""])


def embedded_page(text: str) -> dict[str, Any]:
    """The page data an exported file embeds (what a test compares with the API's)."""
    start = text.index("window.AFLUENTE_DASHBOARD = ") + len("window.AFLUENTE_DASHBOARD = ")
    end = text.index(";</script>", start)
    found = json.loads(text[start:end].replace("<\\/", "</"))
    assert isinstance(found, dict)
    return found


def write_export(out: Path, page: Mapping[str, Any]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(export_html(page), encoding="utf-8")
    return out


def _script_text(text: str) -> str:
    """`text` safe inside <script>: no `</` can close the element early."""
    return text.replace("</", "<\\/")
