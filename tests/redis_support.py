"""A real redis-server on 127.0.0.1 for tests, started and stopped by the test itself."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """redis-server without persistence; `start(port)` again after `stop()` simulates an outage."""

    def __init__(self, workdir: Path, password: str | None = None) -> None:
        self.workdir, self.password = workdir, password
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, port: int | None = None) -> None:
        import redis

        for _ in range(3):  # a free port can be taken between finding and binding it
            self.port = port or free_port()
            args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", str(self.workdir)]
            if self.password:
                args += ["--requirepass", self.password]
            self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            client = redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if client.ping():
                        client.close()
                        return
                except redis.RedisError:
                    time.sleep(0.05)
            client.close()
            self.stop()
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL, like a crash or the OOM killer: clients get no goodbye. `start(port)` revives."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """One redis-server for the test, started; stopped after it (skipped where none is installed)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed; .ci/run installs it")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
