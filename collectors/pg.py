"""The PostgreSQL session `postgres` and `sql` share: connect, read-only, statement timeout, masked DSN.

Plug-ins that read PostgreSQL subclass `PgSettings` and `PgCollector` here and never take a session
from each other.
"""

from __future__ import annotations

import math
import os
import socket
import threading
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import Field, SecretStr

from collectors.base import CollectError, Collector, CollectorContext, CollectorSettings
from warroom.durations import format_duration

_SECRET_KEYS = ("password", "sslpassword")
_URL_KEYS = ("user", "password", "host", "port", "dbname")
# A server that stops answering (frozen, or the network path gone) never runs statement_timeout's cancel,
# so the client side gives up this long after the server should have.
WATCHDOG_GRACE = 1.0


class _Psycopg:
    """psycopg, imported on first use: a config without PostgreSQL never pays its import at the daemon's start."""

    def __getattr__(self, name: str) -> Any:
        import psycopg

        return getattr(psycopg, name)


psycopg: Any = _Psycopg()


def conninfo_to_dict(dsn: str) -> dict[str, Any]:
    """libpq's parse of a DSN (psycopg.conninfo), loaded on first use."""
    from psycopg.conninfo import conninfo_to_dict as parse

    return parse(dsn)


def mask_dsn(dsn: str) -> str:
    """The DSN as it may be shown in reasons and logs: `postgresql://user:***@host:port/db`."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        # libpq's parse error quotes the offending fragment, which may be the password.
        return "<invalid DSN>"
    user = quote(params.get("user", ""), safe="")
    auth = f"{user}:***@" if "password" in params else (f"{user}@" if user else "")
    hosts = params.get("host", params.get("hostaddr", "")).split(",")
    ports = params.get("port", "").split(",") if params.get("port") else []
    if len(ports) == len(hosts):
        where = ",".join(f"{quote(h, safe='')}:{p}" for h, p in zip(hosts, ports, strict=True))
    else:
        where = ",".join(quote(h, safe="") for h in hosts) + (f":{','.join(ports)}" if ports else "")
    dbname = params.get("dbname")
    path = f"/{quote(dbname, safe='')}" if dbname else ""
    rest = {k: ("***" if k in _SECRET_KEYS else v) for k, v in params.items() if k not in _URL_KEYS}
    query = f"?{urlencode(rest, safe='*')}" if rest else ""
    return f"postgresql://{auth}{where}{path}{query}"


def check_dsn(dsn: str) -> None:
    """Raise CollectError when the DSN cannot be parsed, without echoing it (it holds the password)."""
    try:
        conninfo_to_dict(dsn)
    except psycopg.Error:
        raise CollectError(
            "dsn is not a valid libpq connection string or postgresql:// URL "
            "(details hidden because they could contain the password)"
        ) from None


def _one_line(text: str) -> str:
    lines = (" ".join(line.split()) for line in str(text).splitlines())
    return "; ".join(line for line in lines if line)


class _ConnectionLost(CollectError):
    """The server or the network ended the session mid-poll."""


class _Watchdog:
    """Shuts the connection's socket if a round trip outlives `after` seconds, waking the stuck poll."""

    def __init__(self, conn: psycopg.Connection[Any], after: float):
        self._fd = conn.pgconn.socket
        self._lock = threading.Lock()
        self._done = False
        self.fired = False
        self._timer = threading.Timer(after, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            try:
                # shutdown() on a duplicate acts on the shared socket; closing the original fd under
                # psycopg's feet could let a new connection reuse the number.
                with socket.socket(fileno=os.dup(self._fd)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class PostgresSession:
    """One persistent monitoring connection: read-only, time-bounded, reopened after a failure."""

    def __init__(self, dsn: str, timeout: float, application_name: str):
        self.timeout = timeout
        self.target = mask_dsn(dsn)
        self._dsn = dsn
        self._application_name = application_name[:63]
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error:
            params = {}
        self._secrets = [str(params[k]) for k in _SECRET_KEYS if params.get(k)]
        self._has_app_name = "application_name" in params
        self._conn: psycopg.Connection[Any] | None = None

    def fetch(self, query: str) -> tuple[list[str] | None, list[tuple[Any, ...]]]:
        """Run one statement in a read-only transaction rolled back at once; column names and ≤ 2 rows."""
        reused = self._conn is not None and not self._conn.closed
        try:
            return self._fetch_once(query)
        except _ConnectionLost:
            if not reused:
                raise
        # A DBA clearing sessions (pg_terminate_backend) kills our idle one between polls; one fresh try
        # keeps the metric live exactly when connections are the problem. A second loss is reported.
        return self._fetch_once(query)

    def _fetch_once(self, query: str) -> tuple[list[str] | None, list[tuple[Any, ...]]]:
        conn = self._connect()
        watchdog: _Watchdog | None = None
        try:
            with _Watchdog(conn, self.timeout + WATCHDOG_GRACE) as watchdog, conn.cursor() as cur:
                # binary=True forces the extended protocol, which refuses a second statement after a `;`,
                # so a query cannot switch the transaction back to read-write before writing.
                cur.execute(query, binary=True)
                columns = [col.name for col in cur.description] if cur.description else None
                rows = cur.fetchmany(2) if columns is not None else []
                # Nothing a monitor ran is ever kept, and no transaction stays open between polls.
                conn.rollback()
        except psycopg.errors.QueryCanceled as exc:
            self.close()
            reason = f"query cancelled after {format_duration(self.timeout)}: {_message(exc)}"
            raise CollectError(self._say(reason)) from None
        except psycopg.Error as exc:
            self.close()
            if watchdog is not None and watchdog.fired:
                raise CollectError(self._say(self._silent())) from None
            if isinstance(exc, psycopg.OperationalError):
                raise _ConnectionLost(self._say(f"connection lost: {_message(exc)}")) from None
            raise CollectError(self._say(f"query failed: {_message(exc)}")) from None
        except BaseException:
            self.close()
            raise
        return columns, rows

    def close(self) -> None:
        """Close the connection; the next fetch opens a new one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        self._conn = None
        extra: dict[str, Any] = {}
        if not self._has_app_name:
            # Lets the DBA on the bridge see in pg_stat_activity which session is the war-room's.
            extra["application_name"] = self._application_name
        try:
            conn = psycopg.connect(
                self._dsn,
                # libpq takes whole seconds (and at least 2); psycopg reads "0.5" as 0, meaning no timeout.
                connect_timeout=max(2, math.ceil(self.timeout)),
                autocommit=True,
                # No server-side prepared statements: they break behind pgbouncer in transaction mode.
                prepare_threshold=None,
                **extra,
            )
        except psycopg.errors.ConnectionTimeout:
            reason = f"cannot connect: no answer within {max(2, math.ceil(self.timeout))}s"
            raise CollectError(self._say(reason)) from None
        except psycopg.Error as exc:
            detail = _message(exc).removeprefix("connection failed: ")
            raise CollectError(self._say(f"cannot connect: {detail}")) from None
        watchdog: _Watchdog | None = None
        try:
            with _Watchdog(conn, self.timeout + WATCHDOG_GRACE) as watchdog:
                # Set with set_config rather than the startup `options`, which pgbouncer rejects.
                conn.execute(
                    "select set_config('statement_timeout', %s, false),"
                    " set_config('default_transaction_read_only', 'on', false)",
                    [str(max(1, round(self.timeout * 1000)))],
                )
            conn.autocommit = False
            conn.read_only = True
        except psycopg.Error as exc:
            conn.close()
            silent = watchdog is not None and watchdog.fired
            reason = self._silent() if silent else f"cannot set up the session: {_message(exc)}"
            raise CollectError(self._say(reason)) from None
        self._conn = conn
        return conn

    def _silent(self) -> str:
        return f"no answer within {format_duration(self.timeout + WATCHDOG_GRACE)}; connection dropped"

    def _say(self, what: str) -> str:
        text = f"{self.target}: {what}"
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _message(exc: psycopg.Error) -> str:
    primary = exc.diag.message_primary if isinstance(exc, psycopg.errors.DatabaseError) else None
    return _one_line(primary or str(exc) or type(exc).__name__)


class PgSettings(CollectorSettings):
    """Fields of a collector that reads PostgreSQL: where, as a DSN whose password is a secret."""

    dsn: SecretStr = Field(
        description="libpq DSN or postgresql:// URL; put the password in ${ENV}; it is masked everywhere."
    )


class PgCollector(Collector):
    """A collector over one persistent read-only session; subclasses implement `collect` with `session.fetch`."""

    settings: PgSettings

    def __init__(self, settings: PgSettings, context: CollectorContext):
        super().__init__(settings, context)
        self.session = PostgresSession(
            settings.dsn.get_secret_value(), settings.timeout, f"warroom {settings.name}"
        )

    def check(self) -> None:
        """Reject an unparseable DSN; an unreachable server is reported by each poll, not at start."""
        check_dsn(self.settings.dsn.get_secret_value())

    def close(self) -> None:
        """Close the session."""
        self.session.close()
