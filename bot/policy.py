"""Who may see what: the one place that picks the audience of an answer.

Internal documents must never be quoted where another organisation can read them. Handlers
gather plain facts about the request (`Facts`: which workspace, whose user, what kind of
conversation, whether Slack says it is shared) and `decide` turns them into a `Decision`: refuse,
or answer for the "internal" or the "public" audience that `Engine.ask` understands. Nothing
here knows about Slack payloads, so every rule is a one-line test.

Fail closed: whatever the handlers could not find out (a failed conversations.info or
users.info) counts as the answer that shows less. Silence about internal documents costs a
salesperson a DM; a quote in front of a customer cannot be taken back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .ttlcache import TTLCache

Audience = Literal["internal", "public"]

# The only conversation where "not known to be shared" is good enough: the bot's own DM with
# the asker. Anywhere else other people read along, so there we need Slack's word that the
# conversation is not shared.
DIRECT_MESSAGE = "im"

SHARED_NOTICE = "Answered from public documents only — ask me in a direct message for more."
# For a user who is not (known to be) one of ours: pointing them to a DM would promise more
# than they will get there.
OUTSIDE_NOTICE = "Answered from public documents only."
REFUSAL = "Sorry, I can't answer questions from this workspace."

_TEAM_SEPARATORS = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class Facts:
    """What the handlers found out about one request; None wherever they could not tell.

    team_id: the workspace the request came from.
    user_team_id: the asker's own team, from users.info.
    user_is_stranger: users.info's `is_stranger`.
    channel_type: "im", "channel", "group", "mpim", "slash"…
    channel_shared: True if the event's `is_ext_shared_channel` or conversations.info's
        `is_ext_shared` / `is_pending_ext_shared` / `is_shared` says so.
    """

    team_id: str | None
    user_team_id: str | None
    user_is_stranger: bool | None
    channel_type: str
    channel_shared: bool | None


@dataclass(frozen=True)
class Decision:
    """What the handler does: refuse (with `refusal`), or answer for `audience`.

    `notice`, when set, goes with the answer so the asker knows it was limited and why.
    `ours`: the asker is known to be one of our own people (who may hand a question to the
    compliance team; an outsider may not page it).
    """

    allowed: bool
    audience: Audience
    notice: str | None = None
    refusal: str | None = None
    ours: bool = False


def parse_allowed_teams(value: str) -> frozenset[str]:
    """Team ids from CERTDESK_ALLOWED_TEAMS; an empty set means "no restriction".

    Commas and any whitespace both separate, so "T1, T2" and "T1 T2" mean the same: a team id
    never contains either, and a list that silently became one unknown id would refuse everyone.
    """
    return frozenset(part for part in _TEAM_SEPARATORS.split(value or "") if part)


def decide(facts: Facts, *, allowed_teams: frozenset[str], home_team: str | None) -> Decision:
    """Refuse foreign workspaces; otherwise the widest audience the facts prove safe.

    `home_team` is our own organisation's team id; when None, the workspace the request came
    from stands in for it. A user counts as ours only if users.info gave a team and it is that
    one; a stranger or an unknown user gets public documents only. Every conversation but the
    bot's DM must be known not to be shared before internal documents are quoted in it.
    """
    if allowed_teams and facts.team_id not in allowed_teams:
        return Decision(allowed=False, audience="public", refusal=REFUSAL)
    home = home_team or facts.team_id
    own_user = (facts.user_is_stranger is not True and facts.user_team_id is not None
                and home is not None and facts.user_team_id == home)
    if not own_user:
        return Decision(allowed=True, audience="public", notice=OUTSIDE_NOTICE)
    if facts.channel_type == DIRECT_MESSAGE:
        shared = facts.channel_shared is True  # a Slack Connect DM says so on the event
    else:
        shared = facts.channel_shared is not False
    if shared:
        return Decision(allowed=True, audience="public", notice=SHARED_NOTICE, ours=True)
    return Decision(allowed=True, audience="internal", ours=True)


class ChannelInfoCache:
    """Whether a channel is shared, remembered briefly, so not every question costs a
    conversations.info call (Tier 3: about 50 a minute).

    Kept short (60 s by default) because a channel can become shared at any moment; the
    listeners also `invalidate` on `channel_shared` / `channel_unshared` events. Only answers
    Slack gave are cached: a failed look-up is retried by the next question rather than
    remembered. Bounded, oldest entries dropped first, safe to share between threads.
    """

    def __init__(self, ttl: float = 60.0, *, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: TTLCache[bool] = TTLCache(ttl, max_entries=max_entries, clock=clock,
                                                 name="channel cache")

    def get(self, channel_id: str) -> bool | None:
        """The cached shared flag, or None if not cached (or expired): then look it up."""
        return self._entries.get(channel_id)

    def put(self, channel_id: str, shared: bool | None) -> None:
        """Remember Slack's answer; None (could not be checked) is not remembered."""
        if shared is not None:
            self._entries.put(channel_id, bool(shared))

    def invalidate(self, channel_id: str) -> None:
        """Forget a channel whose sharing just changed, so the next question looks it up."""
        self._entries.pop(channel_id)

    def __len__(self) -> int:
        return len(self._entries)
