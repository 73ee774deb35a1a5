"""A follower's actions count on the leader: acknowledgements, silences, stand-ins, decisions, run-sheet steps.

A follower does not decide: an action posted to it (by the board, `warroom ack`, or a signed link
opened on a phone) is passed whole to the leader's API, whose gate, rights and engine check and apply
it exactly as if it had been posted there (one code path for who may act), and the leader's answer
is the follower's. The leader writes the result to the shared log, so every node shows it.
An action that reached no leader (none known, or its connection refused: a takeover under way) waits
for the next one, up to the lease's ttl and two renewals, then 503 "nothing was changed"; one whose
answer never came (the leader died or froze while answering) is 504 "it may have been taken", never
sent twice. An acknowledgement must never be taken and then lost, nor answered "not taken" when it
was. For the same reason the leader answers an action only once its rows are in the shared log
(bounded; at once while PostgreSQL is unreachable, when the leader alone holds them).
Why HTTP to the leader rather than a request row in PostgreSQL: the leader's own route is the only
code that must know what an acknowledgement is, and a follower waiting for a row would wait for the
same leader anyway.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable

import requests
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

log = logging.getLogger("warroom.ha")

# What changes the night's alert state, and sign-in/sign-out (the leader writes the session and every node
# mirrors it, so a failover signs nobody out); pushed samples stay on the node they were pushed to.
ACTIONS = re.compile(r"^/api/v1/(alerts/\d+/ack(/form)?|annotations|silences(/\d+)?|duty(/[a-z][a-z0-9_]*)?"
                     r"|runsheet/\d+/(done|undo)|signin|signout)$")
# The session header: a signed-in person's action is theirs on the leader too.
PASSED_HEADERS = ("authorization", "content-type", "cookie", "accept", "user-agent", "x-warroom-wall",
                  "x-warroom-session")
FORWARD_TIMEOUT_S = 10.0
RETRY_S = 0.2
HOP = "x-warroom-forwarded-by"
NOT_LEADER = "x-warroom-not-leader"


class Forwarder:
    """Starlette `http` middleware: on a follower, actions go to the leader."""

    def __init__(self, node: str, leading: Callable[[], bool], leader_url: Callable[[], tuple[str | None, str | None]],
                 durable: Callable[[], bool] | None = None, failover_wait_s: float = 5.0):
        self.node, self.leading, self.leader_url, self.durable = node, leading, leader_url, durable
        # An action that reached no leader (none known, or its connection refused) waits this long for the next
        # one: a general manager pressing "acknowledge" while the leader dies gets an answer, not "try again".
        self.failover_wait_s = failover_wait_s
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
            return JSONResponse({"detail": f"node {self.node} does not lead the cluster (yet or any more); nothing was "
                                           "changed, try again"}, 503, headers={NOT_LEADER: self.node})
        body = await request.body()
        return await run_in_threadpool(self._forward, request, body)

    def _forward(self, request: Request, body: bytes) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() in PASSED_HEADERS}
        headers[HOP] = self.node
        deadline = time.monotonic() + self.failover_wait_s
        while True:
            leader, url = self.leader_url()
            if leader is None or not url:
                why = "no node leads the cluster right now" if leader is None else \
                    f"the leader {leader} has no url configured (ha.url)"
            else:
                target = url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
                try:
                    reply = self._session.request(request.method, target, data=body, headers=headers,
                                                  timeout=FORWARD_TIMEOUT_S, allow_redirects=False)
                    if NOT_LEADER not in reply.headers:
                        break
                    # the node this one took for the leader has not taken over yet (or lost it): nothing was done
                    why = f"{leader} does not lead yet"
                except requests.RequestException as err:
                    log.warning("forwarding %s %s to the leader %s failed: %s", request.method, request.url.path,
                                leader, type(err).__name__)
                    if not never_reached(err):
                        # it may have been taken (the leader died or froze while answering): never sent twice
                        self.refused += 1
                        return JSONResponse({"detail": f"no answer from the leader {leader} "
                                             f"({type(err).__name__}): it may have been taken; look before trying "
                                             "again"}, 504)
                    why = f"the leader {leader} did not answer ({type(err).__name__})"
            if time.monotonic() >= deadline:
                self.refused += 1
                return JSONResponse({"detail": f"not taken: {why}; nothing was changed, try again in a few seconds"},
                                    503)
            time.sleep(RETRY_S)  # a takeover is under way: the next leader answers within the lease's ttl
        self.forwarded += 1
        passed = {k: v for k, v in reply.headers.items()
                  if k.lower() in ("content-type", "set-cookie", "location", "cache-control")}
        passed["x-warroom-answered-by"] = leader
        return Response(reply.content, reply.status_code, headers=passed)


def never_reached(err: requests.RequestException) -> bool:
    """True when the request cannot have reached the leader (refused or timed out connecting): safe to send again."""
    if isinstance(err, requests.ConnectTimeout):
        return True
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(err, requests.ConnectionError) and isinstance(reason, NewConnectionError | ConnectTimeoutError)
