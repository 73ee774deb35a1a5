"""An archive is read-only, by a rule read from the routes themselves rather than a list kept beside them.

- A write is any method but GET, HEAD and OPTIONS: on an archive the ReadOnly middleware answers it
  409 ahead of the token gate, whatever the route (a token changes nothing; the body is never read).
- A read that needs the live night (the ack link's page, who is on duty now) declares so by
  depending on `live_night`, which answers 409 when there is none.

So a route added to any router is covered the day it is written; tests/warroom/test_read_only.py
walks every route of an archive (`served`) to hold that.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant

from warroom.api.context import ApiContext, LiveNight, context
from warroom.api.gate import READ_METHODS
from warroom.api.params import ApiError

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # a FastAPI whose app.routes already lists every route
    iter_route_contexts = None  # type: ignore[assignment]

READ_ONLY = "read-only replay: this is an archived night; actions go to the live daemon"


async def live_night(ctx: Annotated[ApiContext, Depends(context)]) -> LiveNight:
    """FastAPI dependency: the live night, or 409 on an archive (a replayed night cannot be changed)."""
    if ctx.live is None:
        raise ApiError(409, READ_ONLY)
    return ctx.live


Live = Annotated[LiveNight, Depends(live_night)]


def is_write(method: str) -> bool:
    """Whether a request with this method may change the night."""
    return method.upper() not in READ_METHODS


@dataclass(frozen=True)
class Served:
    """One route as the app serves it: its path, its methods, and whether it needs the live night."""

    path: str
    methods: frozenset[str]
    live_only: bool

    def refused_on_archive(self) -> set[str]:
        """The methods an archive answers 409: the writes, and all of them when the route needs the live night."""
        return set(self.methods) if self.live_only else {m for m in self.methods if is_write(m)}


def served(app: FastAPI) -> list[Served]:
    """Every route the app serves (docs and schema included), included routers flattened."""
    # Newer FastAPI keeps an included router as one lazy entry of app.routes; older ones copied its routes in.
    routes: Iterable[Any] = app.routes if iter_route_contexts is None else iter_route_contexts(app.routes)
    out = []
    for route in routes:
        methods, dependant = getattr(route, "methods", None), getattr(route, "dependant", None)
        if methods:
            out.append(Served(route.path_format, frozenset(methods), dependant is not None and _needs_live(dependant)))
    return out


def _needs_live(dependant: Dependant) -> bool:
    return any(d.call is live_night or _needs_live(d) for d in dependant.dependencies)


class ReadOnly:
    """ASGI middleware outside the token gate: on an archive every write is 409, token or not, body unread."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        """Pass reads through; answer every other method 409 in the API's error shape."""
        if scope["type"] != "http" or not is_write(scope["method"]):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": {"message": READ_ONLY, "field": None}}).encode()
        await send({"type": "http.response.start", "status": 409,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
