"""The buttons under an answer: Share in channel, and helpful / not helpful.

Both ack first (Slack shows an error on a button not acked within 3 s) and say anything back
to the clicker alone, through the click's response_url.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from index.answer import Answer
from index.freshness import Freshness
from index.search import IndexRebuilding

from ..answering import FEEDBACK, REBUILDING, SORRY, AnswerService, Asker, public_only
from ..blocks import (
    FEEDBACK_DOWN_ACTION_ID,
    FEEDBACK_UP_ACTION_ID,
    SHARE_ACTION_ID,
    Message,
    render_answer,
    render_text,
)
from ..payloads import kind_of_channel, request_team
from ..policy import REFUSAL, Facts
from ..slackcalls import as_message, send_response

log = logging.getLogger(__name__)

BAD_BUTTON = "Sorry, I could not read the question behind that button. Please ask again."
NOT_SHAREABLE = ("Nothing in our public documents answers this question, so there is nothing I "
                 "can share in this channel.")
SHARE_FAILED = "Sorry, I could not share that answer in the channel. Please try again."
THANKS = "Thanks for the feedback — it helps us fill the gaps in our documents."


def register(app: App, service: AnswerService) -> None:
    """Attach the Share button's listener and the two feedback buttons' listener."""

    @app.action(SHARE_ACTION_ID)
    def share(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
              client: WebClient, context: BoltContext) -> None:
        """Post the answer in the channel for everyone, saying who shared it; drop the ephemeral.

        Re-asked with the public audience: what appears in the channel never quotes internal
        documents, even if the asker's own answer did. The clicker goes through the same
        policy and rate limit as a question. A share that fails releases its click, so the
        clicker can try again; one that succeeded ignores a repeated click.
        """
        ack()
        user, channel = clicker(body)
        question = question_from_button(action.get("value"))
        if question is None:
            log.info("share button in %s with an unreadable value", channel)
            tell(respond, "share error", channel, BAD_BUTTON)
            return
        message_ts = (body.get("container") or {}).get("message_ts")
        key = (f"share:{channel}:{message_ts}" if message_ts
               else f"share:{channel}:{user}:{question}")
        if not service.first_time(key):
            log.info("share in %s already done; ignoring the repeated click", channel)
            return
        asker = Asker(team_id=request_team(context), user_id=user, channel_id=channel,
                      channel_type=kind_of_channel(channel))
        decision = service.decide(asker, client, context)
        stop = (decision.refusal or REFUSAL) if not decision.allowed else service.admitted(asker)
        if stop:
            service.forget(key)  # may be clicked again later
            tell(respond, "share refusal", channel, stop)
            return
        try:
            answer = service.engine.ask(question, audience=public_only(decision).audience)
        except Exception as error:
            if not isinstance(error, IndexRebuilding):
                log.exception("answering a shared question in %s failed", channel)
            service.forget(key)  # may be clicked again once answered
            tell(respond, "share error", channel,
                 REBUILDING if isinstance(error, IndexRebuilding) else SORRY)
            return
        if not answer.answered:
            tell(respond, "share refusal", channel, NOT_SHAREABLE)
            return
        message = shared_answer(answer, user, decision.notice, channel, service.freshness())
        if not post_in_channel(respond, channel, message):
            service.forget(key)
            tell(respond, "share error", channel, SHARE_FAILED)

    @app.action(FEEDBACK_UP_ACTION_ID)
    @app.action(FEEDBACK_DOWN_ACTION_ID)
    def feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                 context: BoltContext) -> None:
        """Helpful / not helpful: one vote per user per question (a second click replaces it),
        thanked with an ephemeral note. Votes from workspaces not allowed are not counted.

        Only the workspace is checked, with no look-up: a vote quotes nothing, so neither
        the user's organisation nor the channel's sharing matters."""
        ack()
        user, channel = clicker(body)
        try:
            ref = int(action.get("value") or "")
        except ValueError:
            log.info("feedback button in %s with an unreadable value", channel)
            return
        decision = service.policy(Facts(team_id=request_team(context), user_team_id=None,
                                        user_is_stranger=None, channel_type=FEEDBACK,
                                        channel_shared=None), context)
        if not decision.allowed or not user:
            tell(respond, "feedback refusal", channel, decision.refusal or REFUSAL)
            return
        helpful = action.get("action_id") == FEEDBACK_UP_ACTION_ID
        question_log = service.safety.question_log
        try:
            if question_log is None or not question_log.feedback(ref, user_id=user, helpful=helpful):
                log.info("feedback in %s for a question not in the log", channel)
        except Exception as error:
            log.warning("recording feedback failed (%s)", type(error).__name__)
        tell(respond, "feedback thanks", channel, THANKS)


def clicker(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(who clicked, in which conversation) from a block_actions payload."""
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return user, channel


def question_from_button(value: str | None) -> str | None:
    """The question in a share button's JSON value (`{"q": ...}`), or None if malformed."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return None
    question = data.get("q") if isinstance(data, dict) else None
    if not isinstance(question, str) or not question.strip():
        return None
    return question.strip()


def shared_answer(answer: Answer, user: str | None, notice: str | None, channel: str | None,
                  freshness: Freshness | None = None) -> Message:
    """The answer as posted for everyone, naming who shared it when the id is a plain user id;
    with the same freshness warnings the asker saw (the channel is quoting it too)."""
    try:
        return render_answer(answer, shared_by=user, notice=notice, freshness=freshness)
    except ValueError:  # not a plain user id: share without naming anyone
        log.warning("share in %s by an unexpected user id; posting without attribution", channel)
        return render_answer(answer, notice=notice, freshness=freshness)


def post_in_channel(respond: Respond, channel: str | None, message: Message) -> bool:
    """Post `message` for everyone, then remove the clicker's ephemeral answer it came from."""
    if not send_response(respond, "share", channel, response_type="in_channel", replace_original=False,
                         unfurl_links=False, unfurl_media=False, **as_message(message)):
        return False
    send_response(respond, "removing the shared ephemeral answer", channel, delete_original=True)
    return True


def tell(respond: Respond, what: str, channel: str | None, text: str) -> None:
    """Say `text` to the clicker alone, leaving the message they clicked on as it is."""
    send_response(respond, what, channel, response_type="ephemeral", replace_original=False,
                  **as_message(render_text(text)))
