"""`afluente metrics serve`: a Prometheus endpoint. Every scrape reads the state store and
the Delta logs afresh (a custom collector), so the numbers are never stale and the server
keeps no state of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
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
        stream = _StreamFamilies()
        for table in health:
            if table.stream is not None:
                stream.add(table.table, table.stream)
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
        yield from stream.families()


class _StreamFamilies:
    """The streaming sources' latest micro-batch: lag per partition, duration, latency."""

    def __init__(self) -> None:
        self.lag = GaugeMetricFamily(
            "afluente_stream_lag_messages",
            "Messages on the broker beyond what bronze holds, after the latest micro-batch",
            labels=["table", "partition"],
        )
        self.duration = GaugeMetricFamily(
            "afluente_stream_batch_duration_seconds",
            "Duration of the latest micro-batch (the source and everything downstream)",
            labels=["table"],
        )
        self.latency = GaugeMetricFamily(
            "afluente_stream_latency_seconds",
            "End of the latest micro-batch minus the timestamp of its newest message",
            labels=["table"],
        )
        self.batch_rows = GaugeMetricFamily(
            "afluente_stream_batch_rows", "Rows the latest micro-batch ingested",
            labels=["table"],
        )

    def add(self, table: str, progress: dict[str, Any]) -> None:
        for partition, lag in (progress.get("lag") or {}).items():
            self.lag.add_metric([table, partition], lag)
        if progress.get("duration_s") is not None:
            self.duration.add_metric([table], progress["duration_s"])
        if progress.get("latency_s") is not None:
            self.latency.add_metric([table], progress["latency_s"])
        self.batch_rows.add_metric([table], progress.get("rows") or 0)

    def families(self) -> Iterator[Metric]:
        yield from (self.lag, self.duration, self.latency, self.batch_rows)


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
