"""Personal acknowledgement links: HMAC-signed for one alert and one role, with an expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac


class AckRejected(Exception):
    """A token that is forged, expired or for another alert; the message says which.

    `reason` (malformed | forged | expired | disabled) lets a page say it in the campaign's language.
    """

    def __init__(self, message: str, reason: str = "forged"):
        super().__init__(message)
        self.reason = reason


def _sign(secret: bytes, alert_id: int, role: str, expires: int) -> str:
    mac = hmac.new(secret, f"{alert_id}|{role}|{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:20]).decode().rstrip("=")


def make_token(secret: str, alert_id: int, role: str, expires: int) -> str:
    """`role.expires.signature`, safe in a URL."""
    return f"{role}.{expires}.{_sign(secret.encode(), alert_id, role, expires)}"


def check_token(secret: str, alert_id: int, token: str, now: float) -> str:
    """The role the token was issued to; AckRejected otherwise."""
    try:
        role, expires_text, signature = token.split(".")
        expires = int(expires_text)
    except ValueError:
        raise AckRejected("malformed ack token", "malformed") from None
    expected = _sign(secret.encode(), alert_id, role, expires)
    if not hmac.compare_digest(expected, signature):
        raise AckRejected("ack token signature does not match this alert")
    if now > expires:
        raise AckRejected("ack token expired", "expired")
    return role
