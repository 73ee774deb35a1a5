"""Notifier kinds by URL scheme: Alertmanager forwarding, and Apprise for everything else.

One delivery function for all of them: `deliver(url, page) -> Delivery`. A URL that no kind can
send to is a config error at start, never a page silently dropped at 23:30.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from urllib.parse import unquote

from alerts.notifiers import alertmanager, apprise_channel
from alerts.notifiers.page import Delivery, Page

# Schemes whose host part is a network address, not a token: showing it helps and reveals nothing.
_HOST_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos", "alertmanager",
                 "alertmanagers", "ntfy", "ntfys", "gotify", "gotifys", "matrix", "matrixs"}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]{0,20}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")

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
        outcome = _kind(url).send(url, page, timeout)
    except Exception as err:  # noqa: BLE001 - a notifier bug must become a logged failed attempt
        outcome = Delivery(False, f"{type(err).__name__}: {err}")
    # a service's error text may quote the URL it was given; it goes to the log and the API
    return outcome if outcome.ok else dataclasses.replace(outcome, error=scrub(url, outcome.error or "failed"))


def shown(url: str) -> str:
    """A channel as it may appear in logs, the API and the database: scheme plus a non-secret label.

    Many Apprise URLs carry the secret where a host would be (dingtalk://TOKEN, slack://A/B/C,
    telegram://BOT/CHAT), so only schemes whose host is a real network address show it; every
    other part is replaced by a short hash of the whole URL, stable across restarts (the alert
    log matches pending pages by it) and distinct for two channels on one host.
    """
    label = hashlib.sha256(url.encode()).hexdigest()[:6]
    if "://" not in url:
        return f"(not a URL)…{label}"
    scheme = url.split("://", 1)[0].strip().lower()
    if not _SCHEME.match(scheme):
        return f"(not a URL)…{label}"
    host = _network_host(url) if scheme in _HOST_SCHEMES else None
    return f"{scheme}://{host}/…{label}" if host else f"{scheme}://…{label}"


def _network_host(url: str) -> str | None:
    """host[:port] of a URL, without userinfo, path, query or fragment; None when it looks odd."""
    rest = url.split("://", 1)[1]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    return authority if _HOST.match(authority) else None


def secret_parts(url: str) -> list[str]:
    """Every piece of `url` that may be a secret: userinfo, non-network hosts, path, query values, fragment."""
    if "://" not in url:
        return [url] if len(url) >= 4 else []
    scheme, rest = url.split("://", 1)
    host = _network_host(url) if scheme.lower() in _HOST_SCHEMES else None
    pieces = {rest}
    for piece in re.split(r"[/?#&=@:+]", rest):
        pieces.add(unquote(piece))
        pieces.add(piece)
    if "@" in rest.split("/", 1)[0]:
        pieces.add(rest.split("/", 1)[0].rsplit("@", 1)[0])
    pieces.discard(scheme)
    if host:
        pieces -= {host, *host.split(":")}
    return sorted((p for p in pieces if len(p) >= 4), key=len, reverse=True)


def scrub(url: str, text: str) -> str:
    """`text` (an error from a channel) with every secret part of `url` replaced by ***."""
    for piece in secret_parts(url):
        text = text.replace(piece, "***")
    return text


__all__ = ["Delivery", "Page", "channel_problem", "deliver", "scrub", "secret_parts", "shown"]
