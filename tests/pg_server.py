"""A real, throwaway PostgreSQL server for the tests: initdb into a temp dir, start, yield a DSN, remove.

Use the session fixture `postgres_dsn` (a `postgresql://user:pass@127.0.0.1:port/db` string for a
non-superuser role that owns the database and holds pg_monitor) or `postgres_server` when a test
also needs the superuser DSN or the server's port. Tests that change shared state should create
their own schema or role, because the server lives for the whole session.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.realparts import free_port, missing_part

START_TIMEOUT = 30.0
MISSING = "PostgreSQL server binaries not installed (apt-get install postgresql)"


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: the test role's DSN, the superuser's DSN, and where its files are."""

    dsn: str
    admin_dsn: str
    host: str
    port: int
    dbname: str
    user: str
    password: str
    data_dir: Path
    log_path: Path


def find_server_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl, or None when the server is not installed."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        # On Debian a libpq-dev-only install has pg_config too, pointing at /usr/bin without initdb,
        # so every candidate is checked for the binaries rather than trusted.
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.TimeoutExpired):
            pass
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += [Path(p) for p in sorted(versioned, key=_major_version, reverse=True)]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(initdb).resolve().parent
    return None


def _major_version(bindir: str) -> int:
    match = re.search(r"/postgresql/(\d+)", bindir)
    return int(match.group(1)) if match else -1


class _Runner:
    """Runs server tools as ourselves, or as the `postgres` user when we are root (postgres refuses root)."""

    def __init__(self, bindir: Path, workdir: Path):
        self.bindir = bindir
        self.workdir = workdir
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                missing_part("running as root and there is no 'postgres' user to run PostgreSQL as")
            runuser = shutil.which("runuser")
            if runuser is None:
                missing_part("running as root and runuser is not installed to drop to the 'postgres' user")
            self.prefix = [runuser, "-u", "postgres", "--"]
            os.chown(workdir, account.pw_uid, account.pw_gid)
        # The server wants its directories private; 0700 is what initdb itself would create.
        os.chmod(workdir, 0o700)

    def run(self, tool: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run one server tool to completion, bounded by `timeout` seconds."""
        cmd = [*self.prefix, str(self.bindir / tool), *args]
        return subprocess.run(
            cmd,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )

    def give(self, path: Path) -> None:
        """Hand a file we wrote to the server's user."""
        if self.prefix:
            account = pwd.getpwnam("postgres")
            os.chown(path, account.pw_uid, account.pw_gid)


def _log_tail(log_path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _wait_until_accepting(dsn: str, deadline: float) -> None:
    """Connect until the server answers or the deadline passes; raise with the last error."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(dsn, connect_timeout=2, autocommit=True) as conn:
                conn.execute("select 1")
                return
        except psycopg.Error as exc:
            last = exc
            time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not accept connections within {START_TIMEOUT:.0f}s: {last}")


def _stop(runner: _Runner, data_dir: Path) -> None:
    """Stop the server hard (its data is thrown away), killing the postmaster if pg_ctl cannot."""
    if not (data_dir / "postmaster.pid").exists():
        return
    try:
        result = runner.run(
            "pg_ctl", "-D", str(data_dir), "-m", "immediate", "-w", "-t", "10", "stop", timeout=15
        )
        if result.returncode == 0:
            return
    except subprocess.TimeoutExpired:
        pass
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass


def start_postgres(runner: _Runner) -> PostgresServer:
    """initdb and start a server in the runner's workdir; the caller calls `stop_postgres`, even on error."""
    workdir = runner.workdir
    data_dir, log_path = workdir / "data", workdir / "server.log"
    admin_password, password = secrets.token_hex(12), secrets.token_hex(12)
    pwfile = workdir / "pwfile"
    pwfile.write_text(admin_password + "\n")
    runner.give(pwfile)
    init = runner.run(
        "initdb",
        "-D", str(data_dir),
        "-U", "postgres",
        f"--pwfile={pwfile}",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E", "UTF8",
        "--locale=C",
        "--no-sync",
        timeout=120,
    )  # fmt: skip
    pwfile.unlink()
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")

    for _attempt in range(3):
        port = free_port()
        with open(data_dir / "postgresql.conf", "a") as conf:
            # Later lines win in postgresql.conf, so a retry with a new port simply appends again.
            conf.write(
                "\n# warroom tests\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {port}\n"
                f"unix_socket_directories = '{workdir}'\n"
                "max_connections = 20\n"
                "shared_buffers = 32MB\n"
                # Durability is pointless for a server deleted at the end of the run; these make it fast.
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        start = runner.run(
            "pg_ctl", "-D", str(data_dir), "-l", str(log_path), "-w", "-t", str(int(START_TIMEOUT)), "start",
            timeout=START_TIMEOUT + 10,
        )  # fmt: skip
        if start.returncode == 0:
            break
        if "Address already in use" not in _log_tail(log_path):
            raise RuntimeError(f"pg_ctl start failed:\n{start.stdout}{start.stderr}\n{_log_tail(log_path)}")
    else:
        raise RuntimeError(f"PostgreSQL could not bind a free port:\n{_log_tail(log_path)}")

    admin_dsn = f"postgresql://postgres:{admin_password}@127.0.0.1:{port}/postgres"
    server = PostgresServer(
        dsn=f"postgresql://warroom:{password}@127.0.0.1:{port}/warroom_test",
        admin_dsn=admin_dsn,
        host="127.0.0.1",
        port=port,
        dbname="warroom_test",
        user="warroom",
        password=password,
        data_dir=data_dir,
        log_path=log_path,
    )
    _wait_until_accepting(admin_dsn, time.monotonic() + START_TIMEOUT)
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
        # Not a superuser, like a real monitoring role; pg_monitor lets it see every session.
        conn.execute(f"create role warroom login password '{password}'")
        conn.execute("grant pg_monitor to warroom")
        conn.execute("create database warroom_test owner warroom")
    return server


def stop_postgres(runner: _Runner) -> None:
    """Stop the server in the runner's workdir if one is running (also after a half-finished start)."""
    _stop(runner, runner.workdir / "data")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL for the whole test session; skipped locally (failed in CI) when not installed."""
    bindir = find_server_bindir()
    if bindir is None:
        missing_part(MISSING)
    workdir = Path(tempfile.mkdtemp(prefix="warroom-pg-"))
    runner: _Runner | None = None
    try:
        runner = _Runner(bindir, workdir)
        yield start_postgres(runner)
    finally:
        if runner is not None:
            stop_postgres(runner)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: PostgresServer) -> str:
    """The DSN of a database owned by a non-superuser role with pg_monitor, on a real local server."""
    return postgres_server.dsn
