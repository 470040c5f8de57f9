"""The real `certdesk serve --http` as a subprocess: its environment, start, /healthz wait and stop.

`serving(env, log_path)` runs one server for a `with` block; `start`, `wait_until_healthy` and
`stop` are its parts, for tests that run several at once (stopped together) or start it otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis_support import free_port
from slack_fixtures import BOT_TOKEN, SECRET, STATE_VARIABLES, USER_SALT
from slackstub.fixtures import PROXY_VARIABLES


def certdesk_command() -> list[str]:
    """The installed `certdesk` script next to this Python, else `python -m bot`."""
    script = Path(sys.executable).parent / "certdesk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def serve_env(tmp_path: Path, slack_paths, fake_slack, **overrides: str | None) -> dict[str, str]:
    """This process's environment without proxies, state or SLACK_ variables, plus the test's
    tokens, FakeSlack, paths and salt. An override of None leaves that variable out."""
    env = {k: v for k, v in os.environ.items()
           if k not in PROXY_VARIABLES and k not in STATE_VARIABLES and not k.startswith("SLACK_")}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake_slack.base_url,
               CERTDESK_SEEDS_DIR=str(slack_paths.seeds_dir), CERTDESK_DATA_DIR=str(slack_paths.data_dir),
               CERTDESK_INDEX_DIR=str(slack_paths.index_dir),
               CERTDESK_DB=str(tmp_path / "state" / "certdesk.sqlite3"),
               CERTDESK_USER_SALT=USER_SALT, HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@dataclass(frozen=True)
class ServeProcess:
    url: str                            # http://127.0.0.1:<port>
    process: subprocess.Popen[bytes]
    log_path: Path                      # its stdout and stderr

    def log(self) -> str:
        return self.log_path.read_text()


def start(env: dict[str, str], log_path: Path, *, port: int | None = None,
          cwd: Path | None = None) -> ServeProcess:
    """`certdesk serve --http` on 127.0.0.1, in a session of its own, logging to `log_path`."""
    port = free_port() if port is None else port
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*certdesk_command(), "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return ServeProcess(f"http://127.0.0.1:{port}", process, log_path)


def wait_until_healthy(*servers: ServeProcess, seconds: float = 30) -> None:
    """Until each answers GET /healthz with "ok": fails, showing its log, if one exits first
    or they are not all up within `seconds`."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + seconds
    for served in servers:
        while True:
            assert served.process.poll() is None, served.log()
            try:
                with opener.open(served.url + "/healthz", timeout=2) as response:
                    assert response.read() == b"ok\n"
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, served.log()
                time.sleep(0.1)


def stop(*processes: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM to all (gunicorn's graceful stop: arbiter, then workers), then wait for each;
    one that outlasts `timeout` is killed with everything in its session."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
            process.wait(timeout=5)


@contextmanager
def serving(env: dict[str, str], log_path: Path, *, port: int | None = None,
            cwd: Path | None = None) -> Iterator[ServeProcess]:
    """One server, up (/healthz answered) for the block and stopped after it, however it ends."""
    served = start(env, log_path, port=port, cwd=cwd)
    try:
        wait_until_healthy(served)
        yield served
    finally:
        stop(served.process)
