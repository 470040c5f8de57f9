"""Where people reach certdesk in Slack: one module per surface, each a few Bolt listeners.

  slash.py            /cert QUESTION: answered privately, with a Share button
  actions.py          the Share in channel and helpful / not helpful buttons
  handoff.py          the Ask compliance button: the question posted in the compliance channel
  shortcut.py         the "Ask certdesk" message shortcut: any message answered privately
  direct_message.py   a DM to the bot: answered in the DM
  mention.py          @certdesk in a channel: answered in a thread, public documents only
  home.py             the App Home tab: the certifications this user may know of
  channel_sharing.py  channel_shared / channel_unshared: forget what we knew of a channel

A surface reads its payload, acks, and hands the asker to the one `AnswerService`
(bot/answering.py), which holds the policy → rate limit → engine → render → record sequence;
what differs between surfaces (where the answer goes, who may read it) stays in the
surface's own module. A new surface is one more module with `register(app, service)` and one
more line in `register` below.

Rules every listener keeps, because the bot speaks in channels shared with customers:

* Ack first. Slack drops a request not acknowledged within 3 s; Bolt acks events at once, and
  the slash command acks within `slash.ACK_BUDGET` whatever the look-ups and the search do.
* Never answer the same Slack message twice (`AnswerService.first_time`, over a record shared
  between worker processes): Slack redelivers events, and one message can arrive as both a DM
  and a mention.
* Never answer a bot (ourselves included) or a message subtype (edits, joins, deletions…).
* A refusal or a rate-limit notice is for the asker only: never posted in a channel.
* A failed send is logged with the channel and Slack's error code, and that is all: no
  exception escapes to Bolt, and no token or response_url (a capability) reaches the log
  (bot/slackcalls.py).
"""

from __future__ import annotations

from slack_bolt import App

from ..answering import AnswerService
from . import actions, channel_sharing, direct_message, handoff, home, mention, shortcut, slash


def register(app: App, service: AnswerService) -> None:
    """Attach every surface's listeners to `app`, all answering through `service`."""
    slash.register(app, service)
    actions.register(app, service)
    direct_message.register(app, service)
    mention.register(app, service)
    home.register(app, service)
    channel_sharing.register(app, service)
    handoff.register(app, service)
    shortcut.register(app, service)
