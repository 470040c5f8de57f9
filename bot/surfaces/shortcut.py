"""The "Ask certdesk" message shortcut: any message (typically a customer's question in a
shared channel) answered privately to the person who used the shortcut, with Share in
channel so they can post the answer there once they have read it.

The question is the message's text without Slack's markup (bot/messagetext.py). It goes
through the one `AnswerService`, like every surface: the workspace allow-list, the asker's
organisation and the channel's sharing decide the audience (a Slack Connect channel, or an
asker from another organisation: public documents only), the rate limit and the question log
apply. The hand-off button, when set up, links the compliance team to the message itself.

Private, wherever Slack lets us: the shortcut's response_url first (an ephemeral reply in that
conversation, which works even where certdesk is not a member), else chat.postEphemeral, else
a DM from certdesk saying where the question came from. Nothing is ever posted for everyone.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from ..answering import AnswerService, Asker, Reply
from ..blocks import MAX_BLOCKS, Message, render_channel_notice, render_text
from ..messagetext import has_attachments, question_from_message
from ..payloads import request_team
from ..slackcalls import as_message, post_ephemeral, post_message, send_response

log = logging.getLogger(__name__)

CALLBACK_ID = "ask_certdesk"     # the manifest's features.shortcuts callback_id
# The channel type recorded in the question log; like "slash", not "im": the answer shows in a
# conversation others read, so the policy needs to know it is not shared before quoting
# internal documents.
SHORTCUT = "shortcut"

NO_TEXT = "That message has no text for me to answer. Ask me with {command} QUESTION instead."
ONLY_ATTACHMENTS = ("That message holds only files or attachments, and I can only read a "
                    "message's text. Ask me with {command} QUESTION instead.")
IN_A_DM = ("I couldn't answer you privately in {channel}, so here is my answer to the "
           "message you asked about there.")


def register(app: App, service: AnswerService) -> None:
    """Attach the listener for the "Ask certdesk" message shortcut."""

    @app.message_shortcut(CALLBACK_ID)
    def ask_certdesk(ack: Ack, shortcut: dict[str, Any], respond: Respond, client: WebClient,
                     context: BoltContext) -> None:
        ack()
        user = (shortcut.get("user") or {}).get("id")
        channel = (shortcut.get("channel") or {}).get("id")
        message = shortcut.get("message") or {}
        question = question_from_message(message)
        if not question:
            notice = ONLY_ATTACHMENTS if has_attachments(message) else NO_TEXT
            reply = Reply(render_text(notice.format(command=service.command)), asker_only=True)
        else:
            asker = Asker(team_id=request_team(context), user_id=user, channel_id=channel,
                          channel_type=SHORTCUT)
            reply = service.reply(asker, question, client, context, surface="shortcut",
                                  for_everyone=False, share_button=True,
                                  about_ts=message.get("ts") or shortcut.get("message_ts"))
        answer_privately(respond, client, channel=channel, user=user, message=reply.message)


def answer_privately(respond: Respond, client: WebClient, *, channel: str | None,
                     user: str | None, message: Message) -> bool:
    """Show `message` to `user` alone: in the conversation (response_url, then
    chat.postEphemeral), else in certdesk's DM with them. False (logged) if all failed."""
    if send_response(respond, "shortcut answer", channel, response_type="ephemeral",
                     unfurl_links=False, unfurl_media=False, **as_message(message)):
        return True
    if channel and user and post_ephemeral(client, channel=channel, user=user, thread_ts=None,
                                           message=message):
        return True
    if user and post_message(client, channel=user, thread_ts=None, message=in_a_dm(message, channel)):
        return True
    log.warning("the Ask certdesk shortcut in %s could not be answered anywhere", channel)
    return False


def in_a_dm(message: Message, channel: str | None) -> Message:
    """`message` with a first line saying where the question was, for the DM fallback."""
    if not channel or len(message.blocks) >= MAX_BLOCKS:
        return message
    return Message(text=message.text,
                   blocks=render_channel_notice(IN_A_DM, channel).blocks + message.blocks)
