"""Plain facts read from a Slack payload, without calling Slack.

Every surface needs the same few facts before it can ask anything of the service (who asks,
from which workspace, in what kind of conversation), and each payload hides them in a
different place; reading them in one place keeps the surfaces from disagreeing about it.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import BoltContext

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def from_a_person(event: dict[str, Any]) -> bool:
    """A person's plain message: no subtype (edit, join, deletion…), not written by any bot.

    Answering a bot could loop with another bot (or ourselves); an edit or a join is not a
    new question."""
    return not event.get("subtype") and not event.get("bot_id") and bool(event.get("user"))


def without_mention(text: str, bot_user_id: str | None) -> str:
    """The question without our own @-mention (other mentions are left to the engine)."""
    def drop(match: re.Match[str]) -> str:
        return " " if bot_user_id is None or match.group(1) == bot_user_id else match.group(0)

    if bot_user_id is None:  # unknown identity: drop a leading mention only
        text = _MENTION.sub(drop, text, count=1) if _MENTION.match(text.lstrip()) else text
    else:
        text = _MENTION.sub(drop, text)
    return " ".join(text.split())


def request_team(context: BoltContext) -> str | None:
    """The workspace a request came from: the acting user's team when Slack says (a Slack
    Connect channel), else the team the request was delivered for."""
    return context.actor_team_id or context.team_id


def token_team(context: BoltContext) -> str | None:
    """The bot token's own team (auth.test, which Bolt's authorization already called)."""
    result = context.authorize_result
    return result.team_id if result is not None else None


def kind_of_channel(channel_id: str | None) -> str:
    """A conversation's type from its id, for events that do not say (app_mention)."""
    return {"D": "im", "G": "group"}.get((channel_id or "C")[:1], "channel")
