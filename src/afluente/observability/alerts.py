"""Alert channels: the log, a webhook (JSON POST, or a Slack-compatible payload) and email
(SMTP). Each channel takes alerts at or above its `min_severity` (resolution alerts go to
every channel that got the incident). A channel that fails is logged and does not stop the
others, nor the run that raised the alert."""

from __future__ import annotations

import json
import logging
import smtplib
from email.message import EmailMessage

from afluente.config.observability import (
    SEVERITY_RANK,
    AlertChannel,
    AlertsConfig,
    EmailChannel,
    LogChannel,
    WebhookChannel,
)
from afluente.errors import AfluenteError
from afluente.observability.incidents import Alert

log = logging.getLogger("afluente.alerts")


class AlertError(AfluenteError):
    """An alert could not be delivered through a channel."""


def routed(alert: Alert, channel: AlertChannel) -> bool:
    severity = max((i.severity for i in alert.incidents), key=SEVERITY_RANK.__getitem__)
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[channel.min_severity]


def send_alerts(alerts: list[Alert], config: AlertsConfig) -> list[AlertError]:
    """Deliver every alert to every channel it is routed to; the log always gets them."""
    failures: list[AlertError] = []
    for alert in alerts:
        log.warning(alert.text(), extra={"run_id": alert.run_id, "model": alert.root})
        for channel in config.channels:
            if isinstance(channel, LogChannel) or not routed(alert, channel):
                continue
            try:
                deliver(alert, channel)
            except AlertError as error:
                log.error(error.render())
                failures.append(error)
    return failures


def deliver(alert: Alert, channel: AlertChannel) -> None:
    if isinstance(channel, WebhookChannel):
        post_webhook(alert, channel)
    elif isinstance(channel, EmailChannel):
        send_email(alert, channel)


def slack_payload(alert: Alert) -> dict[str, object]:
    return {
        "text": alert.title,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": alert.text()}}],
    }


def post_webhook(alert: Alert, channel: WebhookChannel) -> None:
    body = slack_payload(alert) if channel.format == "slack" else alert.payload()
    where = channel.url.split("?", 1)[0]  # a query string may hold a token: never shown
    import httpx  # 0.2-0.3 s of imports, only when a webhook is sent

    try:
        response = httpx.post(
            channel.url, json=body, headers=channel.headers, timeout=channel.timeout_s
        )
    except httpx.HTTPError as exc:
        raise AlertError(
            f"webhook {where}: {type(exc).__name__}: {exc}",
            hint="check `alerts.channels[].url` in afluente.yml and that the server is up",
        ) from None
    if response.status_code >= 400:
        raise AlertError(
            f"webhook {where} answered HTTP {response.status_code}: {response.text[:200]}",
            hint="check the webhook URL and its headers in afluente.yml",
        )


def send_email(alert: Alert, channel: EmailChannel) -> None:
    message = EmailMessage()
    message["Subject"] = alert.title
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message.set_content(alert.text() + "\n\n" + json.dumps(alert.payload(), indent=2))
    where = f"{channel.smtp_host}:{channel.smtp_port}"
    try:
        with smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=channel.timeout_s) as smtp:
            if channel.starttls:
                smtp.starttls()
            if channel.username:
                smtp.login(channel.username, channel.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise AlertError(
            f"email through SMTP server {where}: {type(exc).__name__}: {exc}",
            hint="check `smtp_host`, `smtp_port` and the credentials (from the environment)",
        ) from None
