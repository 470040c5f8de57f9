"""A real PostgreSQL server on 127.0.0.1 for tests, started and stopped by the test itself.

`initdb` makes a throwaway cluster in a temporary directory and `postgres` serves it on a free
port, with password authentication over TCP (so every URL carries a password, as a managed
database's does, and tests can check it never reaches a log). PostgreSQL refuses to run as
root: as root, both run as the `postgres` system user (made by the distribution's package),
and the cluster lives in a directory of its own under the system temporary directory, because
pytest's tmp_path sits in a root-only directory that user cannot enter.

`postgres_server` (module-scoped: one server per test module) and `postgres_url` (a fresh,
empty database per test) are the fixtures; both skip the test, with the reason, when the
server's binaries are not installed (.ci/run installs them).
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
from pathlib import Path
from typing import Any

import pytest

from redis_support import free_port

SUPERUSER = "certdesk"
START_TIMEOUT = 30.0      # initdb and the first start can be slow on a loaded machine
STOP_TIMEOUT = 10.0
RUN_AS = "postgres"       # the distribution's system user, when the tests run as root


def find_bindir() -> Path | None:
    """The directory holding initdb and postgres: PATH first, then the distributions' places
    (Debian/Ubuntu /usr/lib/postgresql/<version>/bin, RHEL /usr/pgsql-<version>/bin), newest."""
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "postgres").exists():
        return Path(initdb).parent

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path))

    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin"):
        for bindir in sorted(glob.glob(pattern), key=version, reverse=True):
            if (Path(bindir) / "initdb").exists() and (Path(bindir) / "postgres").exists():
                return Path(bindir)
    return None


def unavailable_reason() -> str | None:
    """Why no server can be started here, or None."""
    if find_bindir() is None:
        return "PostgreSQL server not installed (initdb/postgres not found); .ci/run installs it"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(RUN_AS)
        except KeyError:
            return (f"running as root and there is no {RUN_AS!r} user to run PostgreSQL as "
                    "(it refuses to run as root)")
    return None


class PostgresServer:
    """One PostgreSQL cluster; `create_database()` hands out empty databases on it."""

    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.bindir = bindir
        self.password = "pg-pass-" + secrets.token_hex(8)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._user: dict[str, Any] = {}
        if os.geteuid() == 0:
            entry = pwd.getpwnam(RUN_AS)
            self._user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        self.workdir = Path(tempfile.mkdtemp(prefix="certdesk-pg-"))
        if self._user:
            os.chown(self.workdir, self._user["user"], self._user["group"])
        self.datadir = self.workdir / "data"
        self.logfile = self.workdir / "postgres.log"
        self._databases = 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _run(self, args: list[str], **options: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, cwd=self.workdir, capture_output=True, timeout=START_TIMEOUT,
                              **self._user, **options)

    def _log_tail(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def start(self) -> None:
        pwfile = self.workdir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._user:
            os.chown(pwfile, self._user["user"], self._user["group"])
        done = self._run([str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", SUPERUSER,
                          f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                          "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError("initdb failed: " + done.stderr.decode(errors="replace")[-2000:])
        for _ in range(3):  # a free port can be taken between finding and binding it
            if self._launch(free_port()):
                return
        raise RuntimeError("postgres did not start: " + self._log_tail())

    def restart(self) -> None:
        """Start the stopped server again on its port, with its databases (after an outage)."""
        if not self._launch(self.port):
            raise RuntimeError("postgres did not start again: " + self._log_tail())

    def _launch(self, port: int) -> bool:
        self.port = port
        with open(self.logfile, "ab") as log:
            if self._user:
                os.chown(self.logfile, self._user["user"], self._user["group"])
            self.process = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.datadir), "-k", str(self.workdir),
                 "-p", str(self.port), "-h", "127.0.0.1", "-F", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"],
                cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                **self._user)
        if self._wait_until_ready():
            return True
        self.stop()
        return False

    def _wait_until_ready(self) -> bool:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process is not None and self.process.poll() is None:
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return True
            except psycopg.OperationalError:
                time.sleep(0.1)
        return False

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        self._databases += 1
        name = f"certdesk_test_{self._databases}"
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients are disconnected, not waited for), bounded."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
                process.wait(timeout=STOP_TIMEOUT)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture()
def postgres_url(postgres_server: PostgresServer) -> str:
    """postgresql://certdesk:<password>@127.0.0.1:<port>/<a new, empty database>"""
    return postgres_server.create_database()
