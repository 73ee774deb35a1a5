"""Notifier kinds by URL scheme: Alertmanager forwarding, and Apprise for everything else.

One delivery function for all of them: `deliver(url, page) -> Delivery`. A URL that no kind can
send to is a config error at start (warroom.config.channels), never a page silently dropped at 23:30.
"""

from __future__ import annotations

import dataclasses

from alerts.notifiers import alertmanager, apprise_channel
from alerts.notifiers.page import Delivery, Page
from warroom.config.channels import ALERTMANAGER_SCHEMES, scrub

NOTIFIERS = dict.fromkeys(ALERTMANAGER_SCHEMES, alertmanager)


def _kind(url: str):  # noqa: ANN202 - a module
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return NOTIFIERS.get(scheme, apprise_channel)


def deliver(url: str, page: Page, timeout: float = 10.0) -> Delivery:
    """Send one page to one channel; never raises, the outcome says what happened."""
    try:
        outcome = _kind(url).send(url, page, timeout)
    except Exception as err:  # noqa: BLE001 - a notifier bug must become a logged failed attempt
        outcome = Delivery(False, f"{type(err).__name__}: {err}")
    # a service's error text may quote the URL it was given; it goes to the log and the API
    return outcome if outcome.ok else dataclasses.replace(outcome, error=scrub(url, outcome.error or "failed"))


__all__ = ["Delivery", "Page", "deliver"]
