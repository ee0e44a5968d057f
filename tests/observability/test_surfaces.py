"""`afluente health` (JSON and HTML), the Prometheus endpoint and the webhook and email
channels, each against real servers on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from tests.browser import dump_dom
from tests.cli_inprocess import run_afluente
from typer.testing import CliRunner

from afluente.cli.app import _register, app
from afluente.config.observability import AlertsConfig, EmailChannel, WebhookChannel
from afluente.observability.alerts import send_alerts
from afluente.observability.incidents import Alert
from afluente.observability.prometheus import serve
from afluente.state.observability import IncidentRow

from .conftest import Shop

CLI = [sys.executable, "-m", "afluente.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sample_alert(severity: str = "error") -> Alert:
    now = datetime.now(UTC)
    incident = IncidentRow(
        model="bronze.orders", pillar="volume", metric="rows_added", severity=severity,
        message="`bronze.orders` got 10 rows", root="bronze.orders",
        downstream=["silver.orders"], details={}, opened_at=now, last_seen_at=now, id=1,
    )
    return Alert("incident", severity, "bronze.orders", (incident,),  # type: ignore[arg-type]
                 ("silver.orders",), (), "run-1")


def test_health_json_and_html_show_five_pillars(shop: Shop, tmp_path: Path) -> None:
    for _ in range(3):
        shop.run()
    _register()
    report = tmp_path / "health.html"
    result = CliRunner().invoke(
        app, ["-p", str(shop.root), "--json", "health", "--html", str(report)]
    )
    assert result.exit_code == 0, result.output
    tables = {t["table"]: t for t in json.loads(result.stdout)["tables"]}
    assert list(tables) == ["bronze.orders", "silver.orders", "gold.revenue_by_channel"]
    assert tables["bronze.orders"]["pillars"] == {
        "freshness": "ok", "volume": "ok", "schema": "ok", "distribution": "ok", "lineage": "ok",
    }
    assert tables["bronze.orders"]["runs"] == 3
    html = report.read_text()
    assert html.count("<svg") >= 6 and "http" not in html.split("<body>")[1]
    assert "rows added per run" in html and "null rate of channel" in html


def test_prometheus_endpoint_is_scraped(shop: Shop) -> None:
    shop.run()
    port = free_port()
    server = serve(shop.project, port)
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        server.shutdown()
    assert 'afluente_model_runs_total{table="bronze.orders"} 1.0' in text
    assert 'afluente_open_incidents{pillar="volume",table="silver.orders"} 0.0' in text
    assert 'afluente_freshness_lag_seconds{table="gold.revenue_by_channel"}' in text


def test_health_html_opens_in_chromium_with_pillars_tables_and_charts(
    shop: Shop, tmp_path: Path
) -> None:
    for _ in range(3):
        shop.run()
    report = tmp_path / "health.html"
    done = run_afluente(["-p", str(shop.root), "health", "--html", str(report)])
    assert done.returncode == 0, done.stderr
    dom = dump_dom(report.as_uri(), tmp_path)
    assert "<h1>shop: health</h1>" in dom
    for head in ("table", "freshness", "volume", "schema", "distribution", "lineage"):
        assert f"<th>{head}</th>" in dom
    for table in ("bronze.orders", "silver.orders", "gold.revenue_by_channel"):
        assert f'<tr data-table="{table}"><td>{table}</td>' in dom
        assert f"<h2>{table}</h2>" in dom
    assert '<td class="status ok" style="color:#2e7d32">ok</td>' in dom
    for chart in ("rows added per run", "hours between updates", "null rate of channel"):
        assert f'aria-label="{chart}"' in dom
    assert dom.count("<polyline") >= 9  # three charts or more for each of the three tables
    assert "freshness SLA: warning after 2h, error after 6h" in dom  # bronze.orders
    assert "freshness SLA: none declared" in dom  # silver and gold declare none



def scrape(url: str, server: subprocess.Popen[str]) -> str:
    """The endpoint's text once it answers (the process needs a moment to import and bind)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, timeout=5).text
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                _, err = server.communicate(timeout=10)
                raise AssertionError(f"metrics serve did not answer: {err[-2000:]}") from None
            time.sleep(0.2)


def test_metrics_serve_command_is_scraped_and_stops_on_ctrl_c(shop: Shop) -> None:
    shop.run()
    port = free_port()
    command = [*CLI, "-p", str(shop.root), "metrics", "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        text = scrape(f"http://127.0.0.1:{port}/metrics", server)
        busy = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=30)
    assert 'afluente_model_runs_total{table="gold.revenue_by_channel"} 1.0' in text
    assert 'afluente_table_rows{table="bronze.orders"}' in text
    assert 'afluente_open_incidents{pillar="freshness",table="bronze.orders"} 0.0' in text
    assert server.returncode == 0, err
    assert "Traceback" not in err
    assert busy.returncode != 0
    assert f"cannot serve metrics on 127.0.0.1:{port}" in busy.stderr + busy.stdout
    assert "hint: choose another port" in busy.stderr + busy.stdout


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_webhook_gets_json_and_slack_payloads_routed_by_severity(
    webhook: tuple[str, list[dict[str, object]]],
) -> None:
    url, received = webhook
    config = AlertsConfig(channels=(
        WebhookChannel(type="webhook", url=url),
        WebhookChannel(type="webhook", url=url, format="slack", min_severity="error"),
    ))
    assert send_alerts([sample_alert("warning")], config) == []
    assert len(received) == 1 and received[0]["root"] == "bronze.orders"
    send_alerts([sample_alert("error")], config)
    assert len(received) == 3
    assert str(received[2]["text"]).startswith("[afluente] error: volume incident")


def test_webhook_failure_names_the_endpoint_and_does_not_raise() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook?token=secret"
    failures = send_alerts([sample_alert()], AlertsConfig(channels=(
        WebhookChannel(type="webhook", url=url, timeout_s=2),
    )))
    assert len(failures) == 1
    assert "webhook http://127.0.0.1" in failures[0].message
    assert "secret" not in failures[0].render()


def test_email_goes_through_a_local_smtp_server() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message: object) -> None:
            received.append(message)

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        channel = EmailChannel.model_validate({
            "type": "email", "smtp_host": "127.0.0.1", "smtp_port": port,
            "from": "afluente@example.com", "to": "data@example.com",
        })
        assert send_alerts([sample_alert()], AlertsConfig(channels=(channel,))) == []
    finally:
        controller.stop()
    assert len(received) == 1
    message = received[0]
    assert message["Subject"] == "[afluente] error: volume incident on `bronze.orders`"  # type: ignore[index]
    assert "silver.orders" in message.get_payload()  # type: ignore[attr-defined]


def test_freshness_sla_in_afluente_yml_is_validated(shop: Shop) -> None:
    from afluente.errors import ConfigError

    text = (shop.root / "afluente.yml").read_text().replace("warn_after: 2h", "warn_after: 2x")
    (shop.root / "afluente.yml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        _ = shop.project
    assert "2x" in caught.value.render()
