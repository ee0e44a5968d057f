"""`afluente metrics serve`: a Prometheus endpoint. Every scrape reads the state store and
the Delta logs afresh (a custom collector), so the numbers are never stale and the server
keeps no state of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from afluente.config import Project
from afluente.errors import AfluenteError
from afluente.observability.health import project_health


class ProjectCollector(Collector):
    def __init__(self, project: Project) -> None:
        self.project = project

    def collect(self) -> Iterator[Metric]:
        health = project_health(self.project, now=datetime.now(UTC))
        runs = CounterMetricFamily(
            "afluente_model_runs", "Runs that wrote a new version of the table", labels=["table"]
        )
        duration = GaugeMetricFamily(
            "afluente_model_duration_seconds", "Duration of the last build", labels=["table"]
        )
        rows = GaugeMetricFamily("afluente_table_rows", "Rows in the table", labels=["table"])
        added = GaugeMetricFamily(
            "afluente_rows_added", "Rows added by the last run", labels=["table"]
        )
        lag = GaugeMetricFamily(
            "afluente_freshness_lag_seconds", "Seconds since the last commit", labels=["table"]
        )
        incidents = GaugeMetricFamily(
            "afluente_open_incidents", "Open incidents", labels=["table", "pillar"]
        )
        for table in health:
            runs.add_metric([table.table], len(table.metrics))
            if table.metrics:
                last = table.metrics[-1]
                duration.add_metric([table.table], last.duration_s or 0.0)
                rows.add_metric([table.table], last.row_count or 0)
                added.add_metric([table.table], last.rows_added or 0)
            if table.freshness_lag_s is not None:
                lag.add_metric([table.table], table.freshness_lag_s)
            for pillar in ("freshness", "volume", "schema", "distribution"):
                count = sum(1 for i in table.incidents if i.pillar == pillar)
                incidents.add_metric([table.table, pillar], count)
        yield from (runs, duration, rows, added, lag, incidents)


def registry_for(project: Project) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(ProjectCollector(project))
    return registry


class MetricsEndpointError(AfluenteError):
    """The endpoint could not listen where it was told to."""


def serve(project: Project, port: int, host: str = "127.0.0.1") -> WSGIServer:
    """Start the HTTP endpoint in a background thread; returns the server (`.shutdown()`)."""
    from prometheus_client import start_http_server

    try:
        server, _thread = start_http_server(port, addr=host, registry=registry_for(project))
    except OSError as exc:
        raise MetricsEndpointError(
            f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}",
            hint="choose another port with --port, or stop what is listening there",
        ) from exc
    return server
