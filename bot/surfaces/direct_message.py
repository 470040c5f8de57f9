"""A direct message to the bot: answered in the DM, in its thread if it was written in one.

The DM is the one conversation where internal documents may be quoted without asking Slack
whether it is shared (unless the event says it is a Slack Connect DM): only the asker and
the bot read it. A message in a thread on a question the bot answered, or on its answer, is
a follow-up, read in that thread's context, as a mention's is.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from ..answering import AnswerService, Asker, Thread
from ..payloads import from_a_person, request_team, without_mention
from ..slackcalls import post_message


def register(app: App, service: AnswerService) -> None:
    """Attach the listener for messages in the bot's DMs."""

    # Every message event, not only "im" ones: Bolt answers an event no listener matches
    # with a 404, so the DM check stays inside the listener.
    @app.event("message")
    def direct_message(event: dict[str, Any], body: dict[str, Any], client: WebClient,
                       context: BoltContext) -> None:
        if event.get("channel_type") != "im" or not from_a_person(event):
            return
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts or not service.first_delivery(body, channel, ts):
            return
        asker = Asker(team_id=request_team(context), user_id=event.get("user"), channel_id=channel,
                      channel_type="im", ext_shared=body.get("is_ext_shared_channel"))
        text = without_mention(event.get("text") or "", context.bot_user_id)
        reply = service.reply(asker, text, client, context, surface="dm", for_everyone=False,
                              thread=Thread.of(event))
        posted = post_message(client, channel=channel, thread_ts=event.get("thread_ts"), message=reply.message)
        if posted and reply.about and not event.get("thread_ts"):
            # Answered at the top level: a thread on the answer follows it up as well.
            service.remember_thread(channel, posted, reply.about)
