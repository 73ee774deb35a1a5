"""Personal sign-in links: HMAC-signed with the ack secret for one person in one role, with an expiry.

An ack link acknowledges one alert; a sign-in link lets its person act on the board as themselves,
so it names the person as well as the role (a shift's or a stand-in's link never signs in as whoever
holds the role later) and is signed over a different message, so neither kind of token passes for
the other. A rotated secret voids every link and, through the sessions they opened, every sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from alerts.ack import AckRejected

# The query parameter a sign-in link carries; the board exchanges it for a session and drops it from the address.
LINK_PARAM = "signin"


class SignInRejected(AckRejected):
    """A sign-in token that is forged, expired, malformed, or whose person no longer holds the role.

    `reason` is one of malformed | forged | expired | disabled | not_holder, so pages can say it in
    the campaign's language.
    """

    def __init__(self, reason: str, message: str):
        super().__init__(message, reason)


@dataclass(frozen=True)
class SignIn:
    """Who a valid link signs in: the role and the person's name, until when (epoch seconds)."""

    role: str
    person: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, role: str, person: str, expires: int) -> str:
    message = f"signin|{role}|{person}|{expires}".encode()
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest()[:20])


def make_signin(secret: str, role: str, person: str, expires: int) -> str:
    """`role.person.expires.signature`, the person's name base64url-encoded: safe in a URL."""
    return f"{role}.{_b64(person.encode())}.{expires}.{_sign(secret, role, person, expires)}"


def check_signin(secret: str, token: str, now: float) -> SignIn:
    """The role and person the token was issued to; SignInRejected otherwise."""
    if not secret:
        raise SignInRejected("disabled", "sign-in links are disabled (no ack secret configured)")
    try:
        role, person_b64, expires_text, signature = token.split(".")
        person = _unb64(person_b64).decode()
        expires = int(expires_text)
    except (ValueError, UnicodeDecodeError):
        raise SignInRejected("malformed", "malformed sign-in token") from None
    if not hmac.compare_digest(_sign(secret, role, person, expires), signature):
        raise SignInRejected("forged", "sign-in token signature does not match")
    if now > expires:
        raise SignInRejected("expired", "sign-in token expired")
    return SignIn(role, person, expires)


def signin_url(board_url: str, role: str, token: str) -> str:
    """The board's address (`{role}` filled in) with the sign-in token added to its query."""
    parts = urlsplit(board_url.replace("{role}", role))
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != LINK_PARAM]
    query.append((LINK_PARAM, token))
    return urlunsplit(parts._replace(path=parts.path or "/", query=urlencode(query)))


def session_key(secret: str, session_id: str) -> str:
    """What is stored of a session id: its HMAC under the secret, so a rotated secret ends every session."""
    return hmac.new(secret.encode(), f"session|{session_id}".encode(), hashlib.sha256).hexdigest()
