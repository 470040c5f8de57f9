"""What Slack sends *to* an app: request signing, request bodies, and a signed POST helper.

The ``*_payload`` builders return the dicts Slack puts in a Socket Mode envelope's
``payload``; the ``*_body`` builders wrap the same dicts the way Slack POSTs them to an
HTTP endpoint (``/slack/events``), returning ``(body_bytes, content_type)``.
Shapes follow https://docs.slack.dev (slash commands, Events API, interactivity) and
what ``slack_bolt.request.internals`` extracts from them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlencode

# Default identities. FakeSlack's auth.test answers with the BOT_* ones, so Bolt's
# "ignore my own events" middleware treats USER_ID as a human and BOT_USER_ID as itself.
TEAM_ID = "T0TEAM"
TEAM_DOMAIN = "certdesk-test"
API_APP_ID = "A0APP"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
USER_ID = "U0USER"
USER_NAME = "alice"
CHANNEL_ID = "C0CHAN"
CHANNEL_NAME = "general"
# Port 9 (discard) on loopback: a respond() nobody pointed at FakeSlack fails fast
# with "connection refused" instead of reaching hooks.slack.com.
UNSET_RESPONSE_URL = "http://127.0.0.1:9/response/unset"

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

Body = tuple[bytes, str]


def sign(signing_secret: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to every HTTP request: ``v0=HMAC-SHA256(secret, "v0:{ts}:{body}")``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(signing_secret.encode("utf-8"), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def _trigger_id() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


def slash_command_payload(
    command: str = "/cert",
    text: str = "",
    *,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = API_APP_ID,
    response_url: str = UNSET_RESPONSE_URL,
    trigger_id: str | None = None,
) -> dict[str, str]:
    """The fields of a slash command, all strings as in Slack's form post."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }


def slash_command_body(command: str = "/cert", text: str = "", **fields: Any) -> Body:
    """A slash command as Slack POSTs it: form-encoded fields (see ``slash_command_payload``)."""
    return urlencode(slash_command_payload(command, text, **fields)).encode("utf-8"), FORM


def message_event(
    text: str,
    *,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    channel_type: str = "channel",
    ts: str | None = None,
    thread_ts: str | None = None,
    event_type: str = "message",
) -> dict[str, Any]:
    """A ``message`` (or, with ``event_type="app_mention"``, a mention) event from a human."""
    ts = ts or f"{time.time():.6f}"
    event: dict[str, Any] = {
        "type": event_type,
        "user": user_id,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel": channel_id,
        "channel_type": channel_type,
    }
    if event_type != "message":
        del event["channel_type"]  # app_mention events carry no channel_type
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def event_payload(
    event: dict[str, Any],
    *,
    team_id: str = TEAM_ID,
    event_id: str | None = None,
    api_app_id: str = API_APP_ID,
    authorizations: list[dict[str, Any]] | None = None,
    event_time: int | None = None,
) -> dict[str, Any]:
    """The Events API ``event_callback`` envelope, with a fresh ``event_id`` unless given."""
    if authorizations is None:
        authorizations = [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ]
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": authorizations,
        "is_ext_shared_channel": False,
        "event_context": "4-" + uuid.uuid4().hex,
    }


def event_body(event: dict[str, Any], **fields: Any) -> Body:
    """An Events API delivery as Slack POSTs it: the JSON ``event_callback`` envelope."""
    return json.dumps(event_payload(event, **fields)).encode("utf-8"), JSON


def block_actions_payload(
    action_id: str,
    value: str = "",
    *,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    team_id: str = TEAM_ID,
    response_url: str = UNSET_RESPONSE_URL,
    message: dict[str, Any] | None = None,
    container: dict[str, Any] | None = None,
    block_id: str = "actions",
    api_app_id: str = API_APP_ID,
) -> dict[str, Any]:
    """A button click (``block_actions``) on a bot message in ``channel_id``."""
    if message is None:
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": "", "ts": "1700000000.000100"}
    if container is None:
        container = {
            "type": "message",
            "message_ts": message.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": USER_NAME, "name": USER_NAME, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "deprecated-verification-token",
        "container": container,
        "trigger_id": _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": CHANNEL_NAME},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def block_actions_body(action_id: str, value: str = "", **fields: Any) -> Body:
    """Interactivity as Slack POSTs it: form-encoded, one field ``payload`` holding JSON."""
    payload = json.dumps(block_actions_payload(action_id, value, **fields))
    return urlencode({"payload": payload}).encode("utf-8"), FORM


def message_action_payload(
    callback_id: str,
    message: dict[str, Any],
    *,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    team_id: str = TEAM_ID,
    response_url: str = UNSET_RESPONSE_URL,
    api_app_id: str = API_APP_ID,
) -> dict[str, Any]:
    """A message shortcut (``message_action``) used by ``user_id`` on ``message`` in ``channel_id``."""
    return {
        "type": "message_action",
        "token": "deprecated-verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": USER_NAME, "name": USER_NAME, "team_id": team_id},
        "channel": {"id": channel_id, "name": CHANNEL_NAME},
        "is_enterprise_install": False,
        "enterprise": None,
        "api_app_id": api_app_id,
        "callback_id": callback_id,
        "trigger_id": _trigger_id(),
        "response_url": response_url,
        "message_ts": message.get("ts"),
        "message": message,
    }


def message_action_body(callback_id: str, message: dict[str, Any], **fields: Any) -> Body:
    """A message shortcut as Slack POSTs it: form-encoded, one field ``payload`` holding JSON."""
    payload = json.dumps(message_action_payload(callback_id, message, **fields))
    return urlencode({"payload": payload}).encode("utf-8"), FORM


def url_verification_body(challenge: str) -> Body:
    """The handshake Slack sends when an Events API Request URL is saved."""
    body = {"token": "deprecated-verification-token", "challenge": challenge, "type": "url_verification"}
    return json.dumps(body).encode("utf-8"), JSON


def post_signed(
    url: str,
    body: bytes,
    content_type: str,
    secret: str,
    extra_headers: dict[str, str] | None = None,
    timestamp: int | None = None,
    timeout: float = 5.0,
) -> tuple[int, dict[str, str], bytes]:
    """POST ``body`` signed with ``secret``, as Slack would; returns 4xx/5xx instead of raising.

    Proxies from the environment are ignored so the request stays on the given host.
    """
    headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
    headers.update(sign(secret, body, timestamp))
    headers.update(extra_headers or {})
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()
