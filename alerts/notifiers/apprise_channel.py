"""DingTalk, WeCom, Feishu, Slack, mail, JSON webhooks…: every Apprise URL."""

from __future__ import annotations

import apprise

from alerts.notifiers.page import Delivery, Page

_TYPE = {"resolved": apprise.NotifyType.SUCCESS, "opened": apprise.NotifyType.WARNING}


def problem(url: str) -> str | None:
    """None when Apprise knows how to send to `url`."""
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        scheme = url.split("://", 1)[0] if "://" in url else url[:12]
        return f"Apprise cannot use a '{scheme}://' URL (unknown scheme or missing parts)"
    return None


def send(url: str, page: Page, timeout: float) -> Delivery:
    """One Apprise notify; the error is the service's own log lines."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return Delivery(False, problem(url) or "Apprise refused the URL")
    result = notifier.notify(body=page.body, title=page.title,
                             notify_type=_TYPE.get(page.kind, apprise.NotifyType.FAILURE), timeout=timeout)
    if result:
        return Delivery(True)
    lines = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
    return Delivery(False, "; ".join(lines[-3:]) or f"delivery failed ({result.status})")
