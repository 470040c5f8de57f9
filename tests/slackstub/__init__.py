"""Loopback stand-ins for Slack, so tests drive the real slack-sdk and slack-bolt code.

* ``FakeSlack``: the Web API (``WebClient(base_url=slack.base_url)``) plus response_urls.
* ``FakeSocketMode``: the Socket Mode WebSocket server, reached via ``apps.connections.open``.
* ``payloads``: signed HTTP requests and payloads as Slack sends them to an app.

Everything listens on 127.0.0.1 only; nothing here can reach slack.com.
"""

from .payloads import (
    API_APP_ID,
    BOT_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    USER_ID,
    block_actions_body,
    block_actions_payload,
    event_body,
    event_payload,
    message_action_body,
    message_action_payload,
    message_event,
    post_signed,
    sign,
    slash_command_body,
    slash_command_payload,
    url_verification_body,
)
from .socket_mode import FakeSocketMode
from .web import Call, FakeSlack

__all__ = [
    "API_APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "CHANNEL_ID",
    "TEAM_ID",
    "USER_ID",
    "Call",
    "FakeSlack",
    "FakeSocketMode",
    "block_actions_body",
    "block_actions_payload",
    "event_body",
    "event_payload",
    "message_action_body",
    "message_action_payload",
    "message_event",
    "post_signed",
    "sign",
    "slash_command_body",
    "slash_command_payload",
    "url_verification_body",
]
