"""An @-mention in a channel: answered in a thread on the asking message.

Everyone in the channel reads the thread, so the answer quotes public documents only,
whatever the asker could see in a DM; a refusal or rate-limit notice goes to the asker alone.
A mention inside a thread the bot answered in is a follow-up, read in that thread's context
("what about block storage?"); anywhere else it is answered as itself.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from ..answering import AnswerService, Asker, Thread
from ..payloads import from_a_person, kind_of_channel, request_team, without_mention
from ..slackcalls import post_ephemeral, post_message


def register(app: App, service: AnswerService) -> None:
    """Attach the listener for app_mention events."""

    @app.event("app_mention")
    def mention(event: dict[str, Any], body: dict[str, Any], client: WebClient,
                context: BoltContext) -> None:
        if not from_a_person(event):
            return
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts or not service.first_delivery(body, channel, ts):
            return
        user = event["user"]
        asker = Asker(team_id=request_team(context), user_id=user, channel_id=channel,
                      channel_type=event.get("channel_type") or kind_of_channel(channel),
                      ext_shared=body.get("is_ext_shared_channel"))
        text = without_mention(event.get("text") or "", context.bot_user_id)
        reply = service.reply(asker, text, client, context, surface="mention", for_everyone=True,
                              thread=Thread.of(event))
        thread_ts = event.get("thread_ts") or ts
        if reply.asker_only:
            post_ephemeral(client, channel=channel, user=user, thread_ts=thread_ts, message=reply.message)
        else:
            post_message(client, channel=channel, thread_ts=thread_ts, message=reply.message)
