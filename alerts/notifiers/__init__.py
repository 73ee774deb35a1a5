"""Notifier kinds by URL scheme: Alertmanager forwarding, and Apprise for everything else.

One delivery function for all of them: `deliver(url, page) -> Delivery`. A URL that no kind can
send to is a config error at start, never a page silently dropped at 23:30.
"""

from __future__ import annotations

import hashlib

from alerts.notifiers import alertmanager, apprise_channel
from alerts.notifiers.page import Delivery, Page

NOTIFIERS = {
    "alertmanager": alertmanager,
    "alertmanagers": alertmanager,
}


def _kind(url: str):  # noqa: ANN202 - a module
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return NOTIFIERS.get(scheme, apprise_channel)


def channel_problem(url: str) -> str | None:
    """Why `url` cannot be delivered to (naming only its scheme: URLs carry secrets), or None."""
    return _kind(url).problem(url)


def deliver(url: str, page: Page, timeout: float = 10.0) -> Delivery:
    """Send one page to one channel; never raises, the outcome says what happened."""
    try:
        return _kind(url).send(url, page, timeout)
    except Exception as err:  # noqa: BLE001 - a notifier bug must become a logged failed attempt
        return Delivery(False, f"{type(err).__name__}: {err}")


def shown(url: str) -> str:
    """A channel as it may appear in logs and the API: scheme, host and a short hash of the whole URL.

    The hash tells two channels on one host apart (a restart resumes each one's own deliveries)
    without showing a path or query that may hold a token.
    """
    if "://" not in url:
        return "(not a URL)"
    scheme, rest = url.split("://", 1)
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    tag = hashlib.sha256(url.encode()).hexdigest()[:6]
    return f"{scheme}://{host}/…{tag}" if "/" in rest else f"{scheme}://{host}#{tag}"


__all__ = ["Delivery", "Page", "channel_problem", "deliver", "shown"]
