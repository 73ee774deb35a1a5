"""The board as served (`warroom board` runs `streamlit run app/board.py`): Streamlit's app plus sign-in and sign-out.

A personal link is any board address with `?signin=TOKEN`. Before Streamlit sees the request, the
middleware here exchanges the token with the daemon for a session (the daemon checks the signature,
the expiry and that the person still holds the role, and counts refusals per browser), puts the
session id in an HttpOnly cookie and answers 303 to the same address without the token: the token is
never in Streamlit, the page's HTML, the browser's history or the board's logs. A refused link gets
a plain page in the campaign's language saying why. `/signout` ends the session for good.

Why here and not in a page: Streamlit pages run over a websocket and cannot set an HttpOnly cookie or
answer a plain HTTP page; st.App's routes and middleware can.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from streamlit.runtime.pages_manager import PagesManager

from app.api_client import ApiRefused, DaemonClient, DaemonUnreachable, EndpointMissing, TokenMissing
from app.labels import normal_locale, text
from app.session import client
from app.settings import current_settings

HERE = Path(__file__).resolve().parent
COOKIE = "warroom_session"
LINK_PARAM = "signin"
# The link's answers are never cached, and never tell another site where the browser came from.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# Streamlit runs the first script of a process as an old-style multipage app when a `pages/` folder sits beside
# the entry script, and that run cannot find /alerts or /phone: a "Page not found" modal over a forwarded link.
# The board lays out its pages with st.navigation, so the folder is not a page list.
PagesManager.uses_pages_directory = False


def _client() -> DaemonClient:
    # The pages' own client: with several nodes (`--api URL1,URL2`) a sign-in goes to the node the wall reads.
    return client()


def _back_to(scope_path: str, query: list[tuple[str, str]]) -> str:
    """The same page without the token (a local path only: never a redirect elsewhere)."""
    path = "/" + scope_path.lstrip("/")
    rest = urlencode([(k, v) for k, v in query if k != LINK_PARAM])
    return path + (f"?{rest}" if rest else "")


def _plain(loc: str, title: str, why: str, back: str, status: int) -> HTMLResponse:
    body = (f"<!doctype html><html lang='{loc}'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width,initial-scale=1'><title>{escape(title)}</title><style>body{{font:20px/1.5 "
            "-apple-system,'Noto Sans CJK SC',sans-serif;margin:16px;max-width:640px}}.why{{font-weight:600}}"
            f"</style></head><body><h2>{escape(title)}</h2><p class=why data-signin-refused='1'>{escape(why)}</p>"
            f"<p>{escape(text(loc, 'signin.ask'))}</p><p><a href='{escape(back, quote=True)}'>"
            f"{escape(text(loc, 'signin.read_only'))}</a></p></body></html>")
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def exchange(token: str, client_ip: str | None, back: str, secure: bool) -> Response:
    """The answer to a sign-in link: a session cookie and the page, or a plain page saying why not."""
    loc = normal_locale(current_settings().locale_hint)
    title = text(loc, "signin.refused_title")
    try:
        answer = _client().sign_in(token, client_ip)
    except TokenMissing:
        return _plain(loc, title, text(loc, "signin.no_token"), back, 503)
    except DaemonUnreachable as err:
        return _plain(loc, title, text(loc, "write.unreachable", message=err.reason), back, 503)
    except EndpointMissing:
        return _plain(loc, title, text(loc, "signin.unsupported"), back, 503)
    except ApiRefused as err:
        reason = (err.field or "").removeprefix("token.") if err.status == 403 else "too_many"
        why = text(loc, f"signin.why.{reason}") if reason in _REASONS else err.message
        return _plain(loc, title, why, back, err.status if err.status in (403, 429) else 403)
    response = RedirectResponse(back, status_code=303, headers=NO_STORE)
    response.set_cookie(COOKIE, answer["session"], max_age=_seconds_left(answer.get("expires")), path="/",
                        httponly=True, samesite="lax", secure=secure)
    return response


_REASONS = ("malformed", "forged", "expired", "disabled", "not_holder", "too_many")


def _seconds_left(expires: str | None) -> int | None:
    try:
        left = (datetime.fromisoformat(str(expires)) - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError):
        return None
    return max(60, int(left))


class SignInLinks:
    """ASGI middleware: a GET with `?signin=` is exchanged for a session before Streamlit sees it."""

    def __init__(self, app: object):
        self.app = app

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        """Answer sign-in links; pass everything else to Streamlit."""
        if scope.get("type") == "http" and scope.get("method") == "GET":
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            token = next((v for k, v in query if k == LINK_PARAM), None)
            if token is not None:
                request = Request(scope)
                secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
                client_ip = request.client.host if request.client else None
                response = await run_in_threadpool(exchange, token, client_ip, _back_to(scope.get("path", "/"), query),
                                                   secure)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)  # type: ignore[operator]


def sign_out(request: Request) -> Response:
    """End this browser's session at the daemon and forget the cookie; back to the page it came from."""
    session = request.cookies.get(COOKIE)
    if session:
        try:
            _client().sign_out(session)
        except (ApiRefused, DaemonUnreachable, EndpointMissing, TokenMissing):
            pass  # the cookie goes anyway; the daemon's session expires on its own
    back = request.query_params.get("to") or "/"
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = RedirectResponse(back, status_code=303, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/")
    return response


async def _sign_out(request: Request) -> Response:
    return await run_in_threadpool(sign_out, request)


app = st.App(HERE / "wall.py", routes=[Route("/signout", _sign_out, methods=["GET"])],
             middleware=[Middleware(SignInLinks)])
