"""Dashboards over gold marts, declared in `dashboards/*.yml` beside the models
(docs/dashboards.md): loaded and checked here, their panels' queries run through the governed
reader, and written out as one self-contained HTML file. No web framework: the server's
routes (afluente.server.routes_dashboards) and the CLI (`afluente dashboard`) call this."""

from afluente.dashboards.load import DashboardError, find_dashboard, load_dashboards
from afluente.dashboards.spec import Dashboard, FilterSpec, Panel

__all__ = ["Dashboard", "DashboardError", "FilterSpec", "Panel", "find_dashboard",
           "load_dashboards"]
