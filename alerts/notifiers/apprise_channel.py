"""DingTalk, WeCom, Feishu, Slack, mail, JSON webhooks, phone calls…: every Apprise URL.

Apprise runs a send with a deadline (its own `service_timeout`, 60 s unless set, or `notify(timeout=)`)
on one process-wide pool of about six workers: eight hanging chat providers fill it, and every other
channel's page waits in its queue and is then reported as timed out although it never left. So the
send runs here, on the lane's own thread, with no Apprise deadline; the socket timeouts (`cto`, `rto`)
bound it, and the pager's deadline bounds whatever they do not.
"""

from __future__ import annotations

import functools
import time
from html import escape
from typing import Any

from alerts.notifiers.page import Delivery, Page
from warroom.config.channels import channel_problem, query

_VOICE_LANGUAGE = {"zh-CN": "zh-CN", "en": "en-US"}


@functools.cache
def _apprise() -> tuple[Any, dict[str, Any], Any]:
    """Apprise, the notify type per page kind, and an asset with no deadline of Apprise's own.

    Imported on the first page (the daemon's warm-up thread does it first, right after /health answers):
    importing the daemon must not pay for it (warroom/daemon/warm_up.py).
    """
    import apprise

    types = {"resolved": apprise.NotifyType.SUCCESS, "opened": apprise.NotifyType.WARNING}
    # No deadline on Apprise's side: a deadline is what sends the call through its shared pool.
    return apprise, types, apprise.AppriseAsset(service_timeout=0)


def warm() -> None:
    """Import Apprise and its plug-ins now (they load on the first URL read), so the first page does not wait."""
    apprise, _, _ = _apprise()
    apprise.Apprise.instantiate("json://127.0.0.1/", suppress_exceptions=True)


def timeouts(timeout: float) -> tuple[float, float]:
    """(connect, read) timeouts for a channel whose page must be accepted within `timeout` seconds.

    The connect timeout is kept below the read timeout, so a connection error that took longer than
    the connect timeout can only have come after the request went out: it may have arrived.
    """
    return min(timeout / 2, 5.0), timeout


def with_timeouts(url: str, timeout: float) -> str:
    """`url` with Apprise's connect / read timeouts set to the channel's, unless the URL sets its own.

    Apprise's HTTP plugins wait 4 s for a reply by default: a webhook slower than that receives the
    page while warroom logs a failure and sends it again.
    """
    if {"rto", "cto"} & set(query(url)):
        return url
    connect, read = timeouts(timeout)
    return f"{url}{'&' if '?' in url else '?'}cto={connect:g}&rto={read:g}"


def is_voice_call(url: str) -> bool:
    """True for a channel that rings a phone and reads the page aloud (Twilio `method=call`)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return scheme == "twilio" and query(url).get("method", "").lower().startswith("c")


def twiml(page: Page, locale: str) -> str:
    """The call's TwiML: the short voice text said twice, in the campaign's language."""
    said = escape(page.voice or page.title)
    language = _VOICE_LANGUAGE.get(locale, "en-US")
    return (f'<Response><Say language="{language}" loop="2">{said}</Say></Response>')


def _connect_timeout(url: str, timeout: float) -> float:
    try:
        return float(query(url).get("cto", ""))
    except ValueError:
        return timeouts(timeout)[0]


def send(url: str, page: Page, timeout: float) -> Delivery:
    """One Apprise notify on this thread; the error is the service's own log lines."""
    apprise, types, own_thread = _apprise()
    notifier = apprise.Apprise(asset=own_thread)
    if not notifier.add(with_timeouts(url, timeout)):
        return Delivery(False, channel_problem(url) or "Apprise refused the URL")
    title, body = page.title, page.body
    if is_voice_call(url):
        title, body = "", twiml(page, page.locale)
    started = time.monotonic()
    result = notifier.notify(body=body, title=title, notify_type=types.get(page.kind, apprise.NotifyType.FAILURE))
    took = time.monotonic() - started
    if result:
        return Delivery(True)
    lines = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
    error = "; ".join(lines[-3:]) or f"delivery failed ({result.status})"
    # Apprise keeps the socket error at debug level, out of reach per call. A connection error that came
    # after the connect timeout came after the request went out (a read timeout, a reset mid-answer).
    connect = _connect_timeout(url, timeout)
    unconfirmed = "Connection error" in error and took > connect
    return Delivery(False, f"no answer after {took:.1f}s: {error}" if unconfirmed else error, unconfirmed)
