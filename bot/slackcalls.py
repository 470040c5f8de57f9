"""The Web API calls made while answering, each one failing softly.

A Slack call can fail at any time (a 429, a 5xx after slack-sdk's retries, a dropped
connection). None of these functions raises: a failed look-up answers with the fact that
shows less (fail closed), and a failed send is one log line with the channel and Slack's error
code. The log never gets a token or a response_url, which is a capability: `describe` says
what went wrong without either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from .blocks import Message
from .policy import ChannelInfoCache
from .ttlcache import TTLCache

log = logging.getLogger(__name__)

USER_TTL = 600.0      # users.info answers kept this long: a user's team does not change

UserFacts = tuple[str | None, bool]   # users.info's (team_id, is_stranger)
V = TypeVar("V")


def describe(error: BaseException) -> str:
    """An error's code or class, without URLs (a response_url is a capability) or tokens."""
    if isinstance(error, SlackApiError):
        data = error.response.data if error.response is not None else None
        code = data.get("error") if isinstance(data, dict) else None
        return code or f"HTTP {getattr(error.response, 'status_code', '?')}"
    reason = getattr(error, "reason", None)  # URLError: the OSError underneath
    if isinstance(reason, BaseException):
        return f"{type(error).__name__}: {type(reason).__name__}"
    return type(error).__name__


def as_message(message: Message) -> dict[str, Any]:
    """A rendered message as the keyword arguments every send method takes."""
    return {"text": message.text, "blocks": message.blocks}


# --- look-ups --------------------------------------------------------------------------------


def user_cache(ttl: float = USER_TTL) -> TTLCache[UserFacts]:
    """users.info answers per user; only answers Slack gave are kept (a failed look-up is
    retried by the next question)."""
    return TTLCache(ttl, max_entries=10_000, name="users.info cache")


class _Cache(Protocol[V]):
    def get(self, key: str) -> V | None: ...

    def put(self, key: str, value: V) -> None: ...


def _cached_look_up(cache: _Cache[V], key: str, fetch: Callable[[], dict[str, Any]],
                    read: Callable[[dict[str, Any]], V], *, method: str, instead: str) -> V | None:
    """What `read` makes of Slack's answer to `fetch()` for `key`, through `cache`; None when
    Slack did not answer, logged with what the caller does `instead`. Only answers Slack
    gave are cached: a failed look-up is retried by the next question, not remembered."""
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        answer = fetch()
    except Exception as error:
        log.warning("%s for %s failed: %s; %s", method, key, describe(error), instead)
        return None
    value = read(answer)
    cache.put(key, value)
    return value


def _user_facts(user: dict[str, Any]) -> UserFacts:
    return user.get("team_id"), bool(user.get("is_stranger", False))


def _is_shared(channel: dict[str, Any]) -> bool:
    return any(bool(channel.get(flag)) for flag in ("is_ext_shared", "is_pending_ext_shared", "is_shared"))


def look_up_user(client: WebClient, cache: TTLCache[UserFacts],
                 user_id: str | None) -> tuple[str | None, bool | None]:
    """(the user's own team, is_stranger) from users.info; (None, None) if unknown, which the
    policy reads as "not one of ours"."""
    if not user_id:
        return None, None
    facts = _cached_look_up(cache, user_id, lambda: client.users_info(user=user_id)["user"],
                            _user_facts, method="users.info",
                            instead="treating the asker as not one of ours")
    return facts if facts is not None else (None, None)


def look_up_sharing(client: WebClient, cache: ChannelInfoCache, channel_id: str | None,
                    ext_shared: bool | None) -> bool:
    """Whether anyone outside our organisation may read the conversation. Fail closed:
    True whenever Slack cannot tell us otherwise."""
    if ext_shared:
        return True
    if not channel_id:
        return True
    shared = _cached_look_up(cache, channel_id,
                             lambda: client.conversations_info(channel=channel_id)["channel"],
                             _is_shared, method="conversations.info", instead="treating it as shared")
    return shared if shared is not None else True


def check_sharing(client: WebClient, cache: ChannelInfoCache, channel_id: str) -> tuple[bool | None, str | None]:
    """(shared, None) as Slack says, through `cache`; (None, why) when Slack could not be
    asked, with its error code (channel_not_found: private without us, or no such channel),
    for a caller that must tell a person what to fix rather than just fail closed."""
    cached = cache.get(channel_id)
    if cached is not None:
        return cached, None
    try:
        shared = _is_shared(client.conversations_info(channel=channel_id)["channel"])
    except Exception as error:
        return None, describe(error)
    cache.put(channel_id, shared)
    return shared, None


# --- sending ---------------------------------------------------------------------------------


def post_message(client: WebClient, *, channel: str, thread_ts: str | None, message: Message) -> str | None:
    """Post for everyone in `channel`, without link previews: the posted message's ts (where a
    thread on it would start), or None (logged) if Slack would not take it."""
    try:
        response = client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False,
                                           unfurl_media=False, **as_message(message))
    except Exception as error:  # after slack-sdk's own retries
        log.warning("chat.postMessage to %s failed: %s", channel, describe(error))
        return None
    return str(response.get("ts") or "")


def post_ephemeral(client: WebClient, *, channel: str, user: str, thread_ts: str | None,
                   message: Message) -> bool:
    """Post for `user` alone in `channel`; False (logged) if Slack would not take it."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **as_message(message))
    except Exception as error:
        log.warning("chat.postEphemeral in %s failed: %s", channel, describe(error))
        return False
    return True


def send_response(respond: Respond, what: str, channel: str | None, **message: Any) -> bool:
    """Send through the request's response_url; False (logged as `what`) if Slack refused it.

    The response_url answers with an HTTP status rather than raising, so both are checked."""
    try:
        response = respond(**message)
    except Exception as error:
        log.warning("%s via response_url in %s failed: %s", what, channel, describe(error))
        return False
    if response.status_code != 200:
        log.warning("%s via response_url in %s failed: HTTP %s %s", what, channel,
                    response.status_code, (response.body or "")[:100])
        return False
    return True
