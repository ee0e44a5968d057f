"""A dashboard as the page's script reads it (`window.AFLUENTE_DASHBOARD`), the same for the
server's page and the exported file: its panels, its filters with their choices and values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from afluente.dashboards.filters import Value, jsonable_values
from afluente.dashboards.spec import Dashboard
from afluente.json_values import json_value


def dashboard_json(dashboard: Dashboard, choices: Mapping[str, list[Any] | None],
                   values: Mapping[str, Value]) -> dict[str, Any]:
    """What GET /api/dashboards/{name} answers and the exported file embeds."""
    shown = jsonable_values(values)
    return {
        "name": dashboard.name, "title": dashboard.title,
        "description": dashboard.description, "locale": dashboard.locale,
        "refresh_s": dashboard.refresh.total_seconds() if dashboard.refresh else None,
        "filters": [{"name": name, "label": spec.label or name, "type": spec.type,
                     "choices": ([json_value(c) for c in found]
                                 if (found := choices.get(name)) is not None else None),
                     "value": shown.get(name)}
                    for name, spec in dashboard.filters.items()],
        "panels": [{"name": name, **panel.model_dump(mode="json", exclude={"query"})}
                   for name, panel in dashboard.panels.items()],
    }


def dashboard_summary(dashboard: Dashboard) -> dict[str, Any]:
    """One line of GET /api/dashboards."""
    return {"name": dashboard.name, "title": dashboard.title,
            "description": dashboard.description, "panels": list(dashboard.panels),
            "filters": list(dashboard.filters)}
