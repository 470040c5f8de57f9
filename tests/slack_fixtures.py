"""Fixtures for the Slack app tests: the real app over real HTTP on 127.0.0.1, Slack faked.

* `slack_paths` / `slack_engine`: the checkout's seeds and data, indexed once per session
  into a temporary directory (never the developer's own index).
* `settings`: `bot.settings.Settings` pointing the Web API at FakeSlack, its question log
  and de-dup record under the test's tmp_path, with a fixed user-id salt.
* `workspace`: FakeSlack's users.info / conversations.info know our own user (USER_ID of
  TEAM_ID), an internal channel (CHANNEL_ID), the bot's DM (DM) and a Slack Connect channel
  (SHARED_CHANNEL). `settings` uses it, so every app test starts from that workspace.
* `redis_server`: a throwaway redis-server on 127.0.0.1 (optionally with a password), or the
  test is skipped with the reason.
* `serve_app(...)`: the same WSGI callable gunicorn serves (`bot.server.wsgi_app`), under a
  threaded wsgiref server on 127.0.0.1; returns a `Served` with helpers that POST requests
  signed the way Slack signs them. Servers and executors are shut down after the test.

Import into a test module with
`from slack_fixtures import *  # noqa: F401,F403` (plus slackstub's fixtures).
"""

from __future__ import annotations

import itertools
import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slackstub import CHANNEL_ID, TEAM_ID, USER_ID, FakeSlack, event_body, post_signed, slash_command_body

from bot.settings import Settings
from bot.surfaces import slash
from index.answer import Answer
from index.build import build_index
from index.config import Paths
from index.search import Engine
from redis_support import RedisServer

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-signing-secret-9f8e7d6c5b4a"
BOT_TOKEN = "xoxb-test-bot-token-0123456789"
APP_TOKEN = "xapp-test-app-token-0123456789"
USER_SALT = "test-user-salt-5a4b3c2d1e0f"
SECRETS = (SECRET, BOT_TOKEN, APP_TOKEN, USER_SALT)
DM = "D0DM"
SHARED_CHANNEL = "C0SHARED"

__all__ = ["slack_paths", "slack_engine", "workspace", "settings", "serve_app", "no_leaked_threads",
           "isolated_state", "STATE_VARIABLES",
           "redis_server", "RedisServer", "Served", "SlowEngine", "SECRET", "BOT_TOKEN", "APP_TOKEN",
           "USER_SALT", "SECRETS", "ROOT", "DM", "SHARED_CHANNEL", "internal_channel",
           "shared_channel", "own_user"]


@pytest.fixture(scope="session")
def slack_paths(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    paths = Paths(seeds_dir=ROOT / "seeds", data_dir=ROOT / "data",
                  index_dir=tmp_path_factory.mktemp("slack-index"))
    build_index(paths)
    return paths


@pytest.fixture(scope="session")
def slack_engine(slack_paths: Paths) -> Iterator[Engine]:
    engine = Engine.open(slack_paths)
    yield engine
    engine.close()


def own_user(user_id: str, team_id: str = TEAM_ID, **fields: Any) -> dict[str, Any]:
    """users.info's `user` for a person of `team_id`."""
    return {"id": user_id, "team_id": team_id, "name": user_id.lower(), "is_bot": False, **fields}


def internal_channel(channel_id: str, **fields: Any) -> dict[str, Any]:
    """conversations.info's `channel`: one of our own, shared with nobody."""
    return {"id": channel_id, "is_channel": True, "is_private": False, "is_shared": False,
            "is_ext_shared": False, "is_pending_ext_shared": False, "is_org_shared": False, **fields}


def shared_channel(channel_id: str) -> dict[str, Any]:
    """conversations.info's `channel`: a Slack Connect channel, shared with a customer."""
    return internal_channel(channel_id, is_shared=True, is_ext_shared=True)


@pytest.fixture
def workspace(fake_slack: FakeSlack) -> FakeSlack:
    fake_slack.users[USER_ID] = own_user(USER_ID)
    fake_slack.users["U0SALES"] = own_user("U0SALES")
    fake_slack.channels[CHANNEL_ID] = internal_channel(CHANNEL_ID)
    fake_slack.channels[DM] = internal_channel(DM, is_channel=False, is_im=True)
    fake_slack.channels[SHARED_CHANNEL] = shared_channel(SHARED_CHANNEL)
    return fake_slack


@pytest.fixture
def settings(workspace: FakeSlack, slack_paths: Paths, tmp_path: Path) -> Settings:
    return Settings(bot_token=BOT_TOKEN, signing_secret=SECRET, app_token="",
                    api_url=workspace.base_url, paths=slack_paths,
                    db_path=tmp_path / "state" / "certdesk.sqlite3", user_salt=USER_SALT)


STATE_VARIABLES = ("CERTDESK_DB", "CERTDESK_USER_SALT", "REDIS_URL", "CERTDESK_ALLOWED_TEAMS",
                   "CERTDESK_RATE_LIMIT", "CERTDESK_HOME_TEAM", "CERTDESK_ESCALATION_CHANNEL",
                   "CERTDESK_ESCALATION_GROUP")


@pytest.fixture(autouse=True)
def isolated_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test (nor a `certdesk serve` it starts) writes the checkout's .certdesk/ question log,
    salt or de-dup record, or picks up the developer's own safety settings."""
    for name in STATE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "env-state" / "certdesk.sqlite3"
    monkeypatch.setenv("CERTDESK_DB", str(db))
    return db


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every server, executor and client a test starts must be gone when it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while ((leaked := [t for t in threading.enumerate() if t not in before and t.is_alive()])
           and time.monotonic() < deadline):
        time.sleep(0.05)
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """`redis_server(password=None) -> RedisServer`, started; stopped after the test."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed; .ci/run installs it")
    started: list[RedisServer] = []

    def start(password: str | None = None) -> RedisServer:
        workdir = tmp_path / f"redis{len(started)}"
        workdir.mkdir()
        server = RedisServer(workdir, password)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class SlowEngine:
    """The real engine, slowed down: to exercise the slash command's time budget."""

    def __init__(self, engine: Engine, delay: float) -> None:
        self.engine, self.delay = engine, delay

    def ask(self, question: str, *, audience: str = "internal") -> Answer:
        time.sleep(self.delay)
        return self.engine.ask(question, audience=audience)

    def catalog(self, *, audience: str = "internal") -> list[tuple[str, str | None]]:
        return self.engine.catalog(audience=audience)

    def sections(self, *, audience: str = "internal") -> tuple:
        time.sleep(self.delay)
        return self.engine.sections(audience=audience)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = False  # joined by server_close(): no request thread outlives the test
    block_on_close = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


_ANSWERS = itertools.count()


@dataclass
class Served:
    """The app on http://127.0.0.1:<port>, and FakeSlack it talks to."""

    base: str
    slack: FakeSlack
    settings: Settings

    @property
    def url(self) -> str:
        return self.base + "/slack/events"

    def post(self, body: tuple[bytes, str], *, secret: str = SECRET,
             headers: dict[str, str] | None = None, timestamp: int | None = None) -> tuple[int, dict, bytes]:
        return post_signed(self.url, body[0], body[1], secret, extra_headers=headers, timestamp=timestamp)

    def command(self, text: str, **fields: Any) -> dict[str, Any]:
        """A signed slash command; the JSON of Slack's 200 answer (the inline ack)."""
        fields.setdefault("response_url", self.slack.response_url("command"))
        status, _, body = self.post(slash_command_body(self.settings.command, text, **fields))
        assert status == 200, body
        return json.loads(body) if body else {}

    def answer(self, text: str, **fields: Any) -> dict[str, Any]:
        """A slash command's answer, wherever it came: inline in the ack, or (when the search
        outran the ack budget on a busy machine) posted later to the response_url."""
        name = f"answer-{next(_ANSWERS)}"
        reply = self.command(text, response_url=self.slack.response_url(name), **fields)
        if reply.get("text") != slash.LOOKING:
            return reply
        (late,) = self.slack.wait_for("response_url", lambda c: c.path.endswith("/" + name), timeout=30)
        return late.params

    def event(self, event: dict[str, Any], *, headers: dict[str, str] | None = None,
              **fields: Any) -> int:
        status, _, body = self.post(event_body(event, **fields), headers=headers)
        return status

    def get(self, path: str) -> tuple[int, bytes]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.base + path, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()


@dataclass
class _Started:
    server: _ThreadingWSGIServer
    thread: threading.Thread
    executors: list[ThreadPoolExecutor] = field(default_factory=list)


@pytest.fixture
def serve_app(settings: Settings, slack_engine: Engine, fake_slack: FakeSlack) -> Iterator[Callable[..., Served]]:
    """`serve_app(engine=None, **settings_changes) -> Served`; everything stops after the test."""
    from bot.server import wsgi_app

    started: list[_Started] = []

    def start(engine: Any = None, **changes: Any) -> Served:
        chosen = replace(settings, **changes) if changes else settings
        listeners = ThreadPoolExecutor(max_workers=8, thread_name_prefix="test-listener")
        search = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-search")
        app = wsgi_app(chosen, engine or slack_engine, listener_executor=listeners, search_pool=search)
        server = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer,
                             handler_class=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="test-wsgi", daemon=True)
        thread.start()
        started.append(_Started(server, thread, [listeners, search]))
        return Served(f"http://127.0.0.1:{server.server_port}", fake_slack, chosen)

    yield start
    # FakeSlack first: a listener sleeping in a scripted delay or retry is cut short.
    fake_slack.stop()
    for s in started:
        s.server.shutdown()
        s.server.server_close()
        s.thread.join(timeout=5)
        for executor in s.executors:
            executor.shutdown(wait=True)


# --- assertions shared by the app tests --------------------------------------------------------

QUIET = 0.4  # how long "nothing else happens" is watched, after a positive control


def text_of(message: dict[str, Any]) -> str:
    """Everything Slack would show or notify from a message: fallback text and blocks."""
    return json.dumps({"text": message.get("text"), "blocks": message.get("blocks")}, ensure_ascii=False)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """action_id -> value of every button in a message's blocks."""
    return {e["action_id"]: e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]}


def no_more(slack: FakeSlack, method: str, count: int) -> None:
    """After a positive control: within QUIET seconds, still exactly `count` calls."""
    time.sleep(QUIET)
    calls = slack.calls(method)
    assert len(calls) == count, "\n".join(c.summary() for c in calls)
