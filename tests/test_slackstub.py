"""The Slack stand-ins in tests/slackstub behave like Slack for the real slack-sdk and slack-bolt."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slackstub import (
    BOT_USER_ID,
    CHANNEL_ID,
    USER_ID,
    FakeSlack,
    FakeSocketMode,
    block_actions_body,
    event_body,
    event_payload,
    message_action_body,
    message_event,
    post_signed,
    sign,
    slash_command_body,
    slash_command_payload,
    url_verification_body,
)
from slackstub.fixtures import fake_slack, fake_socket_mode  # noqa: F401  (pytest fixtures)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*ISO 27001* cert 12345"}}]


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every stand-in and client a test starts must be gone when it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3
    while (leaked := [t for t in threading.enumerate() if t not in before and t.is_alive()]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def bolt_app(fake_slack: FakeSlack) -> Iterator[App]:
    """A Bolt app wired to FakeSlack (App() itself calls auth.test, so FakeSlack must be up).

    Its listener executor is ours to shut down: Bolt's default one keeps a thread per App.
    """
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bolt-listener")
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)
    yield App(client=client, signing_secret=SECRET, listener_executor=executor)
    executor.shutdown(wait=True)


# -- Web API -------------------------------------------------------------------------------


def test_web_client_round_trip(fake_slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)

    auth = client.auth_test()
    assert (auth["user_id"], auth["team_id"]) == (BOT_USER_ID, fake_slack.auth["team_id"])

    first = client.chat_postMessage(channel="C1", text="fallback", blocks=BLOCKS)
    second = client.chat_postMessage(channel="C1", text="again")
    assert first["channel"] == "C1"
    assert float(first["ts"]) < float(second["ts"])

    (call,) = fake_slack.wait_for("chat.postMessage", lambda c: c.params["text"] == "fallback")
    assert call.params == {"channel": "C1", "text": "fallback", "blocks": BLOCKS}
    assert call.token == "xoxb-test"
    assert [c.method for c in fake_slack.calls()] == ["auth.test", "chat.postMessage", "chat.postMessage"]


def test_form_and_multipart_bodies_are_decoded(fake_slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)
    client.api_call("chat.postMessage", params={"channel": "C1", "blocks": json.dumps(BLOCKS)})
    client.api_call("files.upload", data={"channels": "C1"}, files={"file": b"%PDF-1.7"})

    assert fake_slack.calls("chat.postMessage")[0].params == {"channel": "C1", "blocks": BLOCKS}
    upload = fake_slack.calls("files.upload")[0]
    assert upload.params == {"channels": "C1", "file": b"%PDF-1.7"}


def test_conversations_info_known_and_unknown(fake_slack: FakeSlack) -> None:
    fake_slack.channels["C1"] = {"id": "C1", "is_ext_shared": True}
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)

    assert client.conversations_info(channel="C1")["channel"] == {"id": "C1", "is_ext_shared": True}
    with pytest.raises(SlackApiError) as raised:
        client.conversations_info(channel="C404")
    assert raised.value.response["error"] == "channel_not_found"


def test_chat_get_permalink_answers_like_slack(fake_slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)
    answer = client.chat_getPermalink(channel="C1", message_ts="1700000000.000100")
    assert answer["permalink"] == "https://certdesk-test.slack.com/archives/C1/p1700000000000100"
    assert answer["channel"] == "C1"
    with pytest.raises(SlackApiError) as raised:
        client.api_call("chat.getPermalink", params={"channel": "C1"})
    assert raised.value.response["error"] == "message_not_found"


def test_scripted_answers(fake_slack: FakeSlack) -> None:
    fake_slack.users["U1"] = {"id": "U1", "tz": "Europe/Berlin"}
    fake_slack.results["conversations.replies"] = lambda call: {"ok": True, "messages": [{"ts": call.params["ts"]}]}
    fake_slack.fail_next("chat.postMessage", status=200, body={"ok": False, "error": "not_in_channel"})
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)

    assert client.users_info(user="U1")["user"]["tz"] == "Europe/Berlin"
    assert client.conversations_replies(channel="C1", ts="1.2")["messages"] == [{"ts": "1.2"}]
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.chat_postMessage(channel="C1", text="hi")


def test_missing_token_is_not_authed(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=fake_slack.base_url).auth_test()
    assert raised.value.response["error"] == "not_authed"


def test_rate_limit_is_retried_after_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "0"})
    client = WebClient(
        token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]
    )

    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert [c.status for c in fake_slack.calls("chat.postMessage")] == [429, 200]


def test_server_error_surfaces_without_retry_handler(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=503)
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 503
    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True  # one failure only


def test_wait_for_times_out_with_a_summary(fake_slack: FakeSlack) -> None:
    WebClient(token="xoxb-test", base_url=fake_slack.base_url).auth_test()
    with pytest.raises(AssertionError, match=r"chat\.postMessage(.|\n)*auth\.test \[200\]"):
        fake_slack.wait_for("chat.postMessage", timeout=0.2)


def test_delay_holds_the_answer_but_records_on_arrival(fake_slack: FakeSlack) -> None:
    fake_slack.delay("chat.postMessage", 0.5)
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url)
    started = time.monotonic()
    worker = threading.Thread(target=client.chat_postMessage, kwargs={"channel": "C1", "text": "slow"})
    worker.start()

    fake_slack.wait_for("chat.postMessage", timeout=0.4)  # seen before the answer
    worker.join(timeout=3)
    assert time.monotonic() - started >= 0.5


def test_response_url_posts_are_recorded(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("cmd")
    status, _, _ = post_signed(url, b'{"text": "hi"}', "application/json", SECRET)
    assert status == 200
    (call,) = fake_slack.wait_for("response_url")
    assert (call.path, call.params) == ("/response/cmd", {"text": "hi"})

    status, _, body = post_signed(url.replace("/response/", "/nowhere/"), b"", "text/plain", SECRET)
    assert status == 404 and b"not_found" in body


# -- Signing and request bodies -----------------------------------------------------------


def test_sign_matches_slack_sdk_verifier() -> None:
    body, _ = slash_command_body(text="iso 27001")
    headers = sign(SECRET, body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b"x", headers)
    assert not verifier.is_valid_request(body, sign(SECRET, body, timestamp=int(time.time()) - 600))


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_over_http(app: App) -> Iterator[str]:
    """Bolt's own WSGI adapter on 127.0.0.1, so signed bodies go through real HTTP."""
    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietWSGIHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


def test_signed_http_requests_reach_bolt_listeners(fake_slack: FakeSlack, bolt_app: App) -> None:
    app = bolt_app

    @app.command("/cert")
    def on_command(ack, respond, command) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond(f"searching {command['text']}")

    @app.event("app_mention")
    def on_mention(event, say) -> None:  # type: ignore[no-untyped-def]
        say(text=f"hi <@{event['user']}>", thread_ts=event["ts"])

    @app.action("share")
    def on_share(ack, body, respond) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond(text=f"shared {body['actions'][0]['value']}", response_type="in_channel")

    @app.message_shortcut("ask")
    def on_shortcut(ack, shortcut, respond, context) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond(text=f"{context.user_id} in {context.channel_id} asked about {shortcut['message']['text']}",
                response_type="ephemeral")

    with serve_over_http(app) as url:
        status, _, body = post_signed(url, *url_verification_body("chal-1"), SECRET)
        assert (status, json.loads(body)) == (200, {"challenge": "chal-1"})

        command = slash_command_body(text="iso 27001", response_url=fake_slack.response_url("cmd"))
        assert post_signed(url, *command, SECRET)[0] == 200
        assert post_signed(url, *command, "wrong-secret")[0] == 401

        mention = message_event(f"<@{BOT_USER_ID}> hi", event_type="app_mention")
        assert post_signed(url, *event_body(mention), SECRET)[0] == 200

        click = block_actions_body("share", "answer-7", response_url=fake_slack.response_url("click"))
        assert post_signed(url, *click, SECRET)[0] == 200

        used = message_action_body("ask", {"type": "message", "user": "U0CUST", "ts": "1.2", "text": "soc 2?"},
                                   response_url=fake_slack.response_url("shortcut"))
        assert post_signed(url, *used, SECRET)[0] == 200

        (responded,) = fake_slack.wait_for("response_url", lambda c: c.path.endswith("/cmd"))
        assert responded.params["text"] == "searching iso 27001"
        (said,) = fake_slack.wait_for("chat.postMessage")
        assert said.params["text"] == f"hi <@{USER_ID}>"
        assert (said.params["channel"], said.params["thread_ts"]) == (CHANNEL_ID, mention["ts"])
        (shared,) = fake_slack.wait_for("response_url", lambda c: c.path.endswith("/click"))
        assert shared.params == {"text": "shared answer-7", "response_type": "in_channel"}
        (answered,) = fake_slack.wait_for("response_url", lambda c: c.path.endswith("/shortcut"))
        assert answered.params == {"text": f"{USER_ID} in {CHANNEL_ID} asked about soc 2?",
                                   "response_type": "ephemeral"}


# -- Socket Mode ---------------------------------------------------------------------------


def test_builtin_socket_mode_client_receives_and_acks(fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode) -> None:
    received: list[SocketModeRequest] = []

    def listener(client: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id, payload={"seen": True}))

    client = SocketModeClient(app_token="xapp-test", web_client=WebClient(base_url=fake_slack.base_url))
    client.socket_mode_request_listeners.append(listener)
    try:
        client.connect()
        fake_socket_mode.wait_for_connection()
        envelope_id = fake_socket_mode.send_envelope("events_api", event_payload(message_event("hello")))

        assert fake_socket_mode.wait_for_ack(envelope_id) == {"envelope_id": envelope_id, "payload": {"seen": True}}
        (request,) = received
        assert (request.type, request.payload["event"]["text"], request.retry_attempt) == ("events_api", "hello", 0)
        assert fake_slack.calls("apps.connections.open")[0].token == "xapp-test"
        deadline = time.monotonic() + 2  # the client pings on connect; our pong must satisfy it
        while client.current_session.last_ping_pong_time is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.current_session.last_ping_pong_time is not None
    finally:
        client.close()


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask, RFC 6455 section 5.3); mask key 1,2,3,4."""
    mask = bytes([1, 2, 3, 4])
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _read_server_frame(sock: socket.socket) -> tuple[int, bytes]:
    head = sock.recv(2, socket.MSG_WAITALL)
    assert head[1] & 0x80 == 0, "server frames must not be masked"
    length = head[1] & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", sock.recv(2, socket.MSG_WAITALL))
    return head[0] & 0x0F, sock.recv(length, socket.MSG_WAITALL)


def test_socket_mode_speaks_rfc6455() -> None:
    """What the builtin client never does (send close, fragment) still works, for other clients."""
    with FakeSocketMode(ping_interval=60) as server, socket.create_connection(("127.0.0.1", server.port), 2) as sock:
        sock.sendall(
            b"GET /link/?ticket=t HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        response = b""
        while not response.endswith(b"\r\n\r\n"):
            response += sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101 ")
        assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in response  # RFC 6455's own example
        opcode, hello = _read_server_frame(sock)
        assert opcode == 0x1 and json.loads(hello)["type"] == "hello"

        sock.sendall(_masked(0x9, b"are you there"))
        assert _read_server_frame(sock) == (0xA, b"are you there")

        ack = json.dumps({"envelope_id": "e1"}).encode()
        sock.sendall(bytes([0x01, 0x80 | 5]) + bytes(4) + ack[:5] + bytes([0x80, 0x80 | (len(ack) - 5)]) + bytes(4) + ack[5:])
        assert server.wait_for_ack("e1") == {"envelope_id": "e1"}

        sock.sendall(_masked(0x8, struct.pack("!H", 1000)))
        assert _read_server_frame(sock) == (0x8, struct.pack("!H", 1000))
        assert sock.recv(1) == b""  # then the server closes the TCP connection


def test_servers_stop_promptly_and_free_the_port() -> None:
    slack, socket_mode = FakeSlack().start(), FakeSocketMode().start()
    ports = (slack.port, socket_mode.port)
    started = time.monotonic()
    slack.stop()
    socket_mode.stop()
    assert time.monotonic() - started < 1
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), 1).close()


def test_apps_connections_open_wants_an_app_token(fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(token="xoxb-test", base_url=fake_slack.base_url).apps_connections_open(app_token="xoxb-test")
    assert raised.value.response["error"] == "not_allowed_token_type"


def test_bolt_socket_mode_handler_end_to_end(
    fake_slack: FakeSlack, fake_socket_mode: FakeSocketMode, bolt_app: App
) -> None:
    app = bolt_app
    fake_slack.delay("chat.postMessage", 5)  # a slow Slack must not delay the ack

    @app.command("/cert")
    def on_command(ack, say, command) -> None:  # type: ignore[no-untyped-def]
        ack(f"looking up {command['text']}")
        say("answer")

    handler = SocketModeHandler(app, app_token="xapp-test")
    try:
        handler.connect()
        fake_socket_mode.wait_for_connection()
        started = time.monotonic()
        envelope_id = fake_socket_mode.send_envelope("slash_commands", slash_command_payload(text="soc 2"))

        ack = fake_socket_mode.wait_for_ack(envelope_id, timeout=3)
        assert ack["payload"] == {"text": "looking up soc 2"}
        assert time.monotonic() - started < 2
        (said,) = fake_slack.wait_for("chat.postMessage")
        assert (said.params["channel"], said.params["text"]) == (CHANNEL_ID, "answer")
    finally:
        fake_slack.stop()  # first: cuts the 5 s delay short, so Bolt's worker can finish
        handler.close()  # waits for that worker
