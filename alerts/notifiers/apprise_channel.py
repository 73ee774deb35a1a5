"""DingTalk, WeCom, Feishu, Slack, mail, JSON webhooks…: every Apprise URL."""

from __future__ import annotations

import time

import apprise

from alerts.notifiers.page import Delivery, Page
from warroom.config.channels import channel_problem

_TYPE = {"resolved": apprise.NotifyType.SUCCESS, "opened": apprise.NotifyType.WARNING}


def with_timeouts(url: str, timeout: float) -> str:
    """`url` with Apprise's connect / read timeouts set to the channel's, unless the URL sets its own.

    Apprise's HTTP plugins wait 4 s for a reply by default: a webhook slower than that receives the
    page while warroom logs a failure and sends it again.
    """
    query = url.split("?", 1)[1] if "?" in url else ""
    keys = {part.split("=", 1)[0].lower() for part in query.split("&") if part}
    if "rto" in keys or "cto" in keys:
        return url
    return f"{url}{'&' if '?' in url else '?'}cto={min(timeout, 5.0):g}&rto={timeout:g}"


def send(url: str, page: Page, timeout: float) -> Delivery:
    """One Apprise notify; the error is the service's own log lines."""
    notifier = apprise.Apprise()
    if not notifier.add(with_timeouts(url, timeout)):
        return Delivery(False, channel_problem(url) or "Apprise refused the URL")
    started = time.monotonic()
    result = notifier.notify(body=page.body, title=page.title,
                             notify_type=_TYPE.get(page.kind, apprise.NotifyType.FAILURE), timeout=timeout + 5.0)
    if result:
        return Delivery(True)
    lines = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
    error = "; ".join(lines[-3:]) or f"delivery failed ({result.status})"
    # Apprise keeps the socket error at debug level, out of reach per call; a connection error that
    # took the whole read timeout is a request sent and never answered, so it may have arrived.
    unconfirmed = "Connection error" in error and time.monotonic() - started >= 0.9 * timeout
    return Delivery(False, f"no reply within {timeout:g}s: {error}" if unconfirmed else error, unconfirmed)
