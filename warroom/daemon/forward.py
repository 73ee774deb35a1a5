"""A follower's actions count on the leader: acknowledgements, silences, stand-ins, decisions, run-sheet steps.

A follower does not decide: an action posted to it (by the board, `warroom ack`, or a signed link
opened on a phone) is passed whole to the leader's API, whose gate, rights and engine check and apply
it exactly as if it had been posted there (one code path for who may act), and the leader's answer
is the follower's. The leader writes the result to the shared log, so every node shows it.
With no leader reachable the follower answers 503 and says why: an acknowledgement must never be
taken and then lost. For the same reason the leader answers an action only once its rows are in the
shared log (bounded; at once while PostgreSQL is unreachable, when the leader alone holds them).
Why HTTP to the leader rather than a request row in PostgreSQL: the leader's own route is the only
code that must know what an acknowledgement is, and a follower waiting for a row would wait for the
same leader anyway.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import requests
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("warroom.ha")

# What changes the night's alert state, and sign-in/sign-out (the leader writes the session and every node
# mirrors it, so a failover signs nobody out); pushed samples stay on the node they were pushed to.
ACTIONS = re.compile(r"^/api/v1/(alerts/\d+/ack(/form)?|annotations|silences(/\d+)?|duty(/[a-z][a-z0-9_]*)?"
                     r"|runsheet/\d+/(done|undo)|signin|signout)$")
# The session header: a signed-in person's action is theirs on the leader too.
PASSED_HEADERS = ("authorization", "content-type", "cookie", "accept", "user-agent", "x-warroom-wall",
                  "x-warroom-session")
FORWARD_TIMEOUT_S = 10.0
HOP = "x-warroom-forwarded-by"


class Forwarder:
    """Starlette `http` middleware: on a follower, actions go to the leader."""

    def __init__(self, node: str, leading: Callable[[], bool], leader_url: Callable[[], tuple[str | None, str | None]],
                 durable: Callable[[], bool] | None = None):
        self.node, self.leading, self.leader_url, self.durable = node, leading, leader_url, durable
        self.forwarded = 0
        self.refused = 0
        self._session = requests.Session()

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Pass an action to the leader when this node follows; everything else is served here."""
        if request.method not in ("POST", "DELETE") or not ACTIONS.match(request.url.path):
            return await call_next(request)
        if self.leading():
            response = await call_next(request)
            # answered once the action is in the shared log: a leader killed right after answering must not take
            # the acknowledgement with it (a leader that dies before gives no answer, and the sender tries again)
            if self.durable is not None and response.status_code < 400 and \
                    not await run_in_threadpool(self.durable):
                log.warning("%s %s answered before it reached the shared log (PostgreSQL slow or unreachable)",
                            request.method, request.url.path)
            return response
        if request.headers.get(HOP):
            # the other node thought we lead and we do not: never bounce between followers
            self.refused += 1
            return JSONResponse({"detail": f"node {self.node} does not lead the cluster any more; try again"}, 503)
        body = await request.body()
        return await run_in_threadpool(self._forward, request, body)

    def _forward(self, request: Request, body: bytes) -> Response:
        leader, url = self.leader_url()
        if leader is None or not url:
            self.refused += 1
            why = "no node leads the cluster right now" if leader is None else \
                f"the leader {leader} has no url configured (ha.url)"
            return JSONResponse({"detail": f"not taken: {why}; nothing was changed, try again in a few seconds"},
                                503)
        headers = {k: v for k, v in request.headers.items() if k.lower() in PASSED_HEADERS}
        headers[HOP] = self.node
        target = url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            reply = self._session.request(request.method, target, data=body, headers=headers,
                                          timeout=FORWARD_TIMEOUT_S, allow_redirects=False)
        except requests.RequestException as err:
            self.refused += 1
            log.warning("forwarding %s %s to the leader %s failed: %s", request.method, request.url.path, leader,
                        type(err).__name__)
            return JSONResponse({"detail": f"not taken: the leader {leader} did not answer ({type(err).__name__}); "
                                           "nothing was changed, try again in a few seconds"}, 503)
        self.forwarded += 1
        passed = {k: v for k, v in reply.headers.items()
                  if k.lower() in ("content-type", "set-cookie", "location", "cache-control")}
        passed["x-warroom-answered-by"] = leader
        return Response(reply.content, reply.status_code, headers=passed)
