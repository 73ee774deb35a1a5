"""A channel URL as the config holds it: can it be delivered to, and how it may be shown.

Apprise URLs carry secrets where a host would be (dingtalk://TOKEN, slack://A/B/C), so a channel
appears in logs, answers, the database and the recorded config only as its scheme plus a label
(`shown`); `secret_parts` and `scrub` take its secret pieces out of any text. The notifiers deliver
to these URLs (alerts.notifiers); `warroom validate` refuses one no notifier could use.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from warroom.config.channel_memory import accepted_before, remember_accepted

# Schemes whose host part is a network address, not a token: showing it helps and reveals nothing.
_HOST_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos", "alertmanager",
                 "alertmanagers", "ntfy", "ntfys", "gotify", "gotifys", "matrix", "matrixs"}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]{0,20}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")

ALERTMANAGER_SCHEMES = ("alertmanager", "alertmanagers")


def channel_problem(url: str) -> str | None:
    """Why `url` cannot be delivered to (naming only its scheme: URLs carry secrets), or None."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ALERTMANAGER_SCHEMES:
        rest = url.split("://", 1)[1]
        return None if rest.split("/", 1)[0] else "alertmanager:// URL needs a host, e.g. alertmanager://127.0.0.1:9093"
    if accepted_before(url):
        return None  # the same Apprise accepted it before: a restart does not load its plug-ins to ask again
    import apprise

    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        shown_scheme = url.split("://", 1)[0] if "://" in url else url[:12]
        return f"Apprise cannot use a '{shown_scheme}://' URL (unknown scheme or missing parts)"
    remember_accepted(url)
    return None


def query(url: str) -> dict[str, str]:
    """The query parameters of a channel URL, keys in lower case (the last of a repeated key wins)."""
    if "?" not in url:
        return {}
    pairs = (part.split("=", 1) for part in url.split("?", 1)[1].split("#", 1)[0].split("&") if part)
    return {pair[0].lower(): unquote(pair[1]) if len(pair) > 1 else "" for pair in pairs}


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


# Query parameters that carry credentials in URLs people paste into configs.
_SECRET_QUERY = re.compile(r"(?i)^(?:.*(?:token|secret|passw|pwd|key|sig|auth|credential|session).*)$")
# Keys of the config tree whose values are channel URLs, or request headers.
_CHANNEL_KEYS = ("channels", "forward", "urgent")
_URL_KEYS = ("url", "public_url", "board_url", "clock_url")


def masked_url(url: str) -> str:
    """A URL that is not a channel (a collector's target, the public URL): its password and credential-like
    query values as ***, the rest as written."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        # user:password keeps the user; a lone userinfo is usually a token (https://TOKEN@host)
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}" if ":" in userinfo else f"***@{host}"
    pairs = [pair.partition("=") for pair in parts.query.split("&")] if parts.query else []
    query = "&".join(f"{k}=***" if v and _SECRET_QUERY.match(unquote(k)) else f"{k}{eq}{v}" for k, eq, v in pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def masked_config(tree: Any) -> Any:
    """The config tree with every secret written literally masked: channels as `shown`, header values and URL
    passwords as ***. Values from ${ENV} are masked by LoadedConfig.mask besides."""
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            if key in _CHANNEL_KEYS and isinstance(value, list):
                out[key] = [shown(v) if isinstance(v, str) else masked_config(v) for v in value]
            elif key == "headers" and isinstance(value, dict):
                out[key] = {name: "***" for name in value}
            elif key in _URL_KEYS and isinstance(value, str):
                out[key] = masked_url(value)
            else:
                out[key] = masked_config(value)
        return out
    if isinstance(tree, list):
        return [masked_config(v) for v in tree]
    return tree
