"""Forward alerts to a Prometheus Alertmanager (`alertmanager://host:port`), for teams that route there."""

from __future__ import annotations

from datetime import timedelta

import requests

from alerts.notifiers.page import Delivery, Page


def _base(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return ("https://" if scheme.lower() == "alertmanagers" else "http://") + rest.rstrip("/")


def payload(page: Page) -> list[dict]:
    """The /api/v2/alerts body: one alert, resolved by an endsAt in the past."""
    alert = {
        "labels": {"alertname": f"warroom_{page.metric.replace('.', '_')}", "metric": page.metric,
                   "severity": page.level, "source": "warroom", **page.labels},
        "annotations": {"summary": page.title, "description": page.body, **({"ack_url": page.ack_url}
                                                                           if page.ack_url else {})},
        "startsAt": page.started_at.isoformat(),
    }
    if page.ended_at is not None:
        alert["endsAt"] = page.ended_at.isoformat()
    else:
        # Alertmanager resolves an alert nobody re-sends; warroom repeats well within this.
        alert["endsAt"] = (page.started_at + timedelta(days=1)).isoformat()
    return [alert]


def send(url: str, page: Page, timeout: float) -> Delivery:
    """POST the alert; Alertmanager answers 200 with an empty body."""
    target = f"{_base(url)}/api/v2/alerts"
    try:
        reply = requests.post(target, json=payload(page), timeout=timeout)
    except requests.ReadTimeout:
        return Delivery(False, f"POST {target}: no reply within {timeout:g}s", unconfirmed=True)
    except requests.RequestException as err:
        return Delivery(False, f"POST {target}: {type(err).__name__}")
    if reply.status_code >= 300:
        return Delivery(False, f"POST {target}: HTTP {reply.status_code} {reply.text[:200]}")
    return Delivery(True)
