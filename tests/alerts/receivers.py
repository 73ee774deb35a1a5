"""Local webhook receivers standing in for each person's phone: optionally slow, optionally failing."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receivers(ThreadingHTTPServer):
    """Apprise json:// webhooks by path: `slow[path]` seconds before answering, `fail` paths answer 500."""

    daemon_threads = True

    def __init__(self):
        self.messages: list[tuple[float, str, dict]] = []
        self.slow: dict[str, float] = {}
        self.fail: set[str] = set()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N802, N805
                path = handler.path.strip("/").split("?")[0]
                body = json.loads(handler.rfile.read(int(handler.headers.get("Content-Length", 0))) or b"{}")
                self.messages.append((time.time(), path, body))
                time.sleep(self.slow.get(path, 0.0))
                handler.send_response(500 if path in self.fail else 200)
                handler.end_headers()

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        """The json:// channel of `path` (a role, or any name)."""
        return f"json://127.0.0.1:{self.server_address[1]}/{path}"

    def to(self, path: str) -> list[dict]:
        """Every page received on `path`, oldest first."""
        return [body for _, p, body in self.messages if p == path]
