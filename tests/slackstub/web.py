"""FakeSlack: a loopback HTTP server that answers the Slack Web API like slack.com does.

Point ``WebClient(base_url=slack.base_url)`` (or a Bolt ``App(client=...)``) at it, then
assert on ``slack.calls()`` / ``slack.wait_for(...)`` instead of sleeping.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
import sys
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from .payloads import BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

if TYPE_CHECKING:
    from .socket_mode import FakeSocketMode

# Form fields Slack accepts as JSON strings; decoded so tests can assert on structure.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


@dataclass(frozen=True)
class Call:
    """One request FakeSlack received. ``method`` is the API method, or "response_url"."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]
    body: bytes
    time: float
    status: int = 200  # what FakeSlack answered (429/5xx when a fault was scripted)

    def header(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive header lookup."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), default)

    @property
    def token(self) -> str | None:
        """The token slack-sdk sent: ``Authorization: Bearer ...`` or a ``token`` param."""
        auth = self.header("Authorization") or ""
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else self.params.get("token")

    def summary(self) -> str:
        text = json.dumps(self.params, default=str)
        return f"{self.method or self.path} [{self.status}] {text[:200]}{'...' if len(text) > 200 else ''}"


@dataclass
class _Fault:
    status: int
    headers: dict[str, str]
    body: bytes
    times: int


class _Reply(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


def _parse_params(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    """Decode a request body the three ways slack-sdk encodes one (form, JSON, multipart)."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/json" and body:
        params.update(json.loads(body))
    elif ctype == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            raw = part.get_payload(decode=True) or b""
            params[part.get_param("name", header="content-disposition")] = (
                raw if part.get_filename() else raw.decode("utf-8")
            )
    elif body:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for name in _JSON_FIELDS:
        value = params.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            params[name] = json.loads(value)
    return params


class FakeSlack:
    """Slack Web API stand-in on 127.0.0.1 (OS-chosen port), served from a daemon thread.

    Requests without any token get ``not_authed``, as on slack.com, so a mis-wired client
    fails in tests too. Unknown API methods answer ``{"ok": true}`` and are recorded.
    """

    def __init__(self) -> None:
        self.auth: dict[str, Any] = {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Certdesk Test",
            "user": "certdesk",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }
        self.channels: dict[str, dict[str, Any]] = {}  # conversations.info answers from here
        self.users: dict[str, dict[str, Any]] = {}  # users.info answers from here
        # Per-method answers that win over the built-in ones: a dict, or a function of the Call.
        self.results: dict[str, dict[str, Any] | Callable[[Call], dict[str, Any]]] = {}
        self.socket_mode: FakeSocketMode | None = None
        self._calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._cond = threading.Condition()
        self._ts_counter = 0
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeSlack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; requests sleeping in ``delay`` are cut short."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=2)
        self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack is not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """For ``WebClient(base_url=...)``; slack-sdk appends the method name."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "default") -> str:
        """A response_url to put in payloads; POSTs to it are recorded as "response_url"."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def attach_socket_mode(self, socket_mode: FakeSocketMode) -> None:
        """Make ``apps.connections.open`` hand out ``socket_mode``'s ws:// URL."""
        self.socket_mode = socket_mode

    # -- scripting ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | str | bytes | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with ``status``/``body`` instead.

        429 defaults to ``Retry-After: 1`` and ``{"ok": false, "error": "ratelimited"}``.
        With ``status=200`` and a body this scripts any Slack error, e.g. ``not_in_channel``.
        """
        if headers is None:
            headers = {"Retry-After": "1"} if status == 429 else {}
        if body is None:
            body = {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        raw = raw.encode("utf-8") if isinstance(raw, str) else raw
        with self._cond:
            self._faults.setdefault(method, []).append(_Fault(status, dict(headers), raw, times))

    def delay(self, method: str, seconds: float) -> None:
        """Hold every later answer to ``method`` for ``seconds`` (0 removes the delay)."""
        with self._cond:
            self._delays[method] = seconds

    # -- inspection --------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        count: int = 1,
    ) -> list[Call]:
        """Block until ``count`` calls to ``method`` (matching ``predicate``) were received.

        Returns all matching calls. A predicate that raises counts as "no match".
        """

        def matching() -> list[Call]:
            found = []
            for call in self._calls:
                if call.method != method:
                    continue
                try:
                    if predicate is None or predicate(call):
                        found.append(call)
                except Exception:
                    pass
            return found

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                return matching()
            received = "\n  ".join(c.summary() for c in self._calls) or "(nothing)"
            raise AssertionError(
                f"waited {timeout}s for {count} {method} call(s)"
                f"{' matching the predicate' if predicate else ''}, got {len(matching())}. "
                f"Received:\n  {received}"
            )

    def reset(self) -> None:
        """Forget recorded calls (faults, delays, channels and users stay)."""
        with self._cond:
            self._calls.clear()

    # -- request handling (server threads) ---------------------------------------------

    def _next_ts(self) -> str:
        with self._cond:
            self._ts_counter += 1
            micros = 1_700_000_000_000_000 + self._ts_counter * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        url = urlsplit(path)
        if url.path.startswith("/api/"):
            method = url.path[len("/api/") :]
        elif url.path.startswith("/response/"):
            method = "response_url"
        else:
            method = ""
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        try:
            params = _parse_params(content_type, body, url.query)
        except (ValueError, UnicodeDecodeError):
            params = {}

        call = Call(method, path, headers, params, body, time.time())
        with self._cond:
            faults = self._faults.get(method)
            fault = faults[0] if faults else None
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    faults.pop(0)
            delay = self._delays.get(method, 0.0)
        if fault is not None:
            reply = _Reply(fault.status, fault.headers, fault.body)
        elif not method:
            reply = _Reply(404, {}, b'{"ok": false, "error": "not_found"}')
        else:
            reply = _Reply(200, {}, json.dumps(self._answer(call)).encode("utf-8"))

        with self._cond:
            self._calls.append(replace(call, status=reply.status))
            self._cond.notify_all()
        if delay:
            self._stopping.wait(delay)
        return reply

    def _answer(self, call: Call) -> dict[str, Any]:
        """The JSON body slack.com would return for a successful HTTP exchange."""
        method, params, token = call.method, call.params, call.token
        if method == "response_url":
            return {"ok": True}
        if not token and not call.header("Authorization"):
            return {"ok": False, "error": "not_authed"}
        if method in self.results:
            result = self.results[method]
            return result(call) if callable(result) else result
        if method == "auth.test":
            return {"ok": True, **self.auth}
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {"type": "message", "user": self.auth["user_id"], "bot_id": self.auth["bot_id"], "ts": ts}
            message.update({k: params[k] for k in ("text", "blocks", "thread_ts") if k in params})
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            ts = params.get("ts")
            message = {k: params[k] for k in ("text", "blocks") if k in params}
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "text": params.get("text", ""), "message": message}
        if method == "chat.getPermalink":
            # Slack's shape (https://docs.slack.dev/reference/methods/chat.getPermalink); needs no scope.
            channel, ts = params.get("channel", ""), params.get("message_ts", "")
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            if not ts:
                return {"ok": False, "error": "message_not_found"}
            link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method == "conversations.info":
            channel = self.channels.get(params.get("channel", ""))
            return {"ok": True, "channel": channel} if channel else {"ok": False, "error": "channel_not_found"}
        if method == "users.info":
            user = self.users.get(params.get("user", ""))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "views.publish":
            view = params.get("view") or {}
            return {"ok": True, "view": {"id": "V0VIEW", "team_id": self.auth["team_id"], **view}}
        if method == "apps.connections.open":
            if not (token or "").startswith("xapp-"):
                return {"ok": False, "error": "not_allowed_token_type"}
            if self.socket_mode is None:
                return {"ok": False, "error": "socket_mode_not_attached"}
            return {"ok": True, "url": self.socket_mode.issue_url()}
        return {"ok": True}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, stop()) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _make_handler(slack: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            reply = slack._handle(self.path, dict(self.headers.items()), body)
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        do_POST = do_GET = _serve

        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

    return Handler
