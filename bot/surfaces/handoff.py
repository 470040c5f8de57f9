"""The "Ask compliance" button under an answer: hands the question to the compliance team.

A click posts the question, who asks, where it was asked (a permalink to the message, or the
channel when the answer was private) and certdesk's top certification into
CERTDESK_ESCALATION_CHANNEL, tagging CERTDESK_ESCALATION_GROUP, and tells the clicker, alone,
that it did, or what to do when it could not.

Why it is careful:

* The click can come from a channel shared with a customer. Nothing is posted there: the
  clicker hears back through the click's response_url, ephemerally, and the post goes only
  to the escalation channel, which must be known not to be shared (conversations.info) before
  anything is posted in it. The post names a certification, never quotes a passage.
* Only our own people may page the compliance team (`Decision.ours`); the clicker also goes
  through the workspace allow-list and the rate limit, like any question.
* A double click posts once: the message's hand-off is claimed in the shared de-dup record
  before posting, and released if the post failed, so the clicker can try again.
* A question that could not be handed over is never lost: the clicker gets it back, quoted,
  with what to do, and the log keeps it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from ..answering import AnswerService, Asker
from ..blocks import HANDOFF_ACTION_ID, Message, render_channel_notice, render_escalation
from ..payloads import kind_of_channel, request_team
from ..policy import REFUSAL
from ..settings import Escalation
from ..slackcalls import as_message, check_sharing, describe, send_response
from .actions import BAD_BUTTON, clicker, tell

log = logging.getLogger(__name__)

# "{channel}" is shown as a link to the escalation channel.
SENT = "Sent to compliance in {channel}. They will follow up with you."
ALREADY_SENT = "This question was already sent to compliance in {channel}."
NOT_SET_UP = ("Hand-off to compliance is not set up (any more). "
              "Please ask the compliance team directly.")
STAFF_ONLY = "Only people in our own organisation can hand a question to the compliance team."
# Each of these is followed by the question, quoted, so it can be copied.
NOT_IN_CHANNEL = ("I couldn't send this to compliance: I am not a member of {channel}. "
                  "Add me there (type /invite @certdesk in that channel), or post your question "
                  "there yourself:")
CHANNEL_NOT_FOUND = ("I couldn't send this to compliance: I can't see the compliance channel "
                     "({channel}). If it is private, add me to it; otherwise ask whoever runs "
                     "certdesk to check CERTDESK_ESCALATION_CHANNEL. Your question:")
ARCHIVED = ("I couldn't send this to compliance: {channel} is archived. Ask whoever runs "
            "certdesk to set CERTDESK_ESCALATION_CHANNEL to the channel in use now. Your question:")
SHARED_ESCALATION = ("I didn't send this to compliance: {channel} is shared with another "
                     "organisation, and hand-offs go only to an internal channel. Ask whoever "
                     "runs certdesk to check CERTDESK_ESCALATION_CHANNEL. Your question:")
FAILED = ("Sorry, I couldn't reach compliance just now (Slack said: {code}). Please try again "
          "in a minute, or post your question in {channel} yourself:")
WENT_WRONG = ("Sorry, something went wrong on my side while sending this to compliance. Please "
              "try again in a minute, or post your question in {channel} yourself:")

OUR_ERROR = "error"
_FIXES = {"not_in_channel": NOT_IN_CHANNEL, "channel_not_found": CHANNEL_NOT_FOUND,
          "is_archived": ARCHIVED}


@dataclass(frozen=True)
class Handoff:
    """What the button carries: the question, certdesk's top certification (None: no
    answer) and the message the question was read from (the message shortcut's), if any."""

    question: str
    top: str | None = None
    about_ts: str | None = None


def register(app: App, service: AnswerService) -> None:
    """Attach the "Ask compliance" button's listener."""

    @app.action(HANDOFF_ACTION_ID)
    def hand_off(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                 client: WebClient, context: BoltContext) -> None:
        ack()
        user, channel = clicker(body)
        escalation = service.escalation
        if escalation is None:    # a button from before CERTDESK_ESCALATION_CHANNEL was unset
            log.info("hand-off clicked in %s, but CERTDESK_ESCALATION_CHANNEL is not set", channel)
            tell(respond, "hand-off refusal", channel, NOT_SET_UP)
            return
        handoff = handoff_from_button(action.get("value"))
        if handoff is None:
            log.info("hand-off button in %s with an unreadable value", channel)
            tell(respond, "hand-off error", channel, BAD_BUTTON)
            return
        asker = Asker(team_id=request_team(context), user_id=user, channel_id=channel,
                      channel_type=kind_of_channel(channel))
        decision = service.decide(asker, client, context)
        if not decision.allowed or not decision.ours:
            tell(respond, "hand-off refusal", channel,
                 (decision.refusal or REFUSAL) if not decision.allowed else STAFF_ONLY)
            return
        limited = service.admitted(asker)
        if limited:
            tell(respond, "hand-off refusal", channel, limited)
            return
        container = body.get("container") or {}
        key = (f"handoff:{channel}:{container['message_ts']}" if container.get("message_ts")
               else f"handoff:{channel}:{user}:{handoff.question}")
        if not service.first_time(key):
            log.info("hand-off from %s already sent; not posting it again", channel)
            say(respond, channel, render_channel_notice(ALREADY_SENT, escalation.channel))
            return
        try:
            problem = send(service, client, escalation, handoff, user=user, channel=channel,
                           container=container)
        except Exception:   # a bug of ours must not leave the click claimed as sent
            log.exception("handing off a question from %s failed", channel)
            problem = OUR_ERROR
        if problem is not None:
            service.forget(key)   # may be clicked again once fixed
            log_undelivered(service, escalation, problem, handoff.question, user)
            say(respond, channel, render_channel_notice(problem_notice(problem), escalation.channel,
                                                        handoff.question))
            return
        log.info("hand-off from %s posted to %s", channel, escalation.channel)
        say(respond, channel, render_channel_notice(SENT, escalation.channel))


def handoff_from_button(value: str | None) -> Handoff | None:
    """The button's JSON value (`{"q", "top", "m"}`), or None if it holds no question."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    question, top, about_ts = data.get("q"), data.get("top"), data.get("m")
    if not isinstance(question, str) or not question.strip():
        return None
    return Handoff(question.strip(), top if isinstance(top, str) and top else None,
                   about_ts if isinstance(about_ts, str) and about_ts else None)


def send(service: AnswerService, client: WebClient, escalation: Escalation, handoff: Handoff, *,
         user: str | None, channel: str | None, container: dict[str, Any]) -> str | None:
    """Post the hand-off in the escalation channel; None when posted, else why not (Slack's
    error code, or "shared"). The channel must be known not to be shared first: a setting
    pointing at a Slack Connect channel would otherwise page a customer.

    The link goes to the message the question came from (the message shortcut's), else to
    the answer the button is on when that is a real message (a mention's thread); a private
    answer (/cert, the shortcut's reply) has no permanent message, so the post names the
    channel and says it was asked privately."""
    lookups = service.safety.lookups or client
    shared, error = check_sharing(lookups, service.safety.channels, escalation.channel)
    if shared is not False:
        return "shared" if shared else error or "unknown"
    private = bool(container.get("is_ephemeral")) and handoff.about_ts is None
    ts = handoff.about_ts or (None if private else container.get("message_ts"))
    message = render_escalation(question=handoff.question, asker=user, top=handoff.top,
                                channel=channel, permalink=link_to(lookups, channel, ts),
                                private=private, group=escalation.group)
    try:
        client.chat_postMessage(channel=escalation.channel, unfurl_links=False, unfurl_media=False,
                                **as_message(message))
    except Exception as error:   # after slack-sdk's own retries
        return describe(error)
    return None


def link_to(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    """A permalink to message `ts` in `channel`; None without one, for a DM (nobody else could
    open it), or when Slack gives none (logged: the post then names the channel instead)."""
    if not channel or not ts or channel.startswith("D"):
        return None
    try:
        link = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except Exception as error:
        log.info("chat.getPermalink in %s failed: %s; naming the channel instead", channel, describe(error))
        return None
    return link if isinstance(link, str) else None


def problem_notice(problem: str) -> str:
    """What the clicker is told for a hand-off that failed with `problem`."""
    if problem == "shared":
        return SHARED_ESCALATION
    if problem == OUR_ERROR:
        return WENT_WRONG
    return _FIXES.get(problem) or FAILED.replace("{code}", problem)


def log_undelivered(service: AnswerService, escalation: Escalation, problem: str, question: str,
                    user: str | None) -> None:
    """The one place a question that did not reach compliance is kept besides the clicker's
    screen: with its text, and the asker as the question log's salted hash (never the id)."""
    question_log = service.safety.question_log
    try:
        who = question_log.user_hash(user) if question_log and user else None
    except Exception:
        who = None
    log.warning("hand-off to %s failed (%s); the question was not delivered: %r (user %s)",
                escalation.channel, problem, question, who or "unknown")


def check_escalation_channel(client: WebClient, escalation: Escalation) -> str | None:
    """At start-up: what would make every hand-off fail, in one line for the operator (None
    when the channel looks right). A warning, not a stop: everything else still works, and
    each failed click tells the clicker what to do."""
    channel = escalation.channel
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except Exception as error:
        return (f"CERTDESK_ESCALATION_CHANNEL {channel}: Slack could not show it to certdesk "
                f"({describe(error)}): a private channel certdesk is not in, or a wrong ID; "
                "\"Ask compliance\" fails until /invite @certdesk there")
    if any(info.get(flag) for flag in ("is_ext_shared", "is_pending_ext_shared", "is_shared")):
        return (f"CERTDESK_ESCALATION_CHANNEL {channel} is shared with another organisation; "
                "\"Ask compliance\" refuses to post there: choose an internal channel")
    if info.get("is_archived"):
        return f"CERTDESK_ESCALATION_CHANNEL {channel} is archived; \"Ask compliance\" fails until it is changed"
    if info.get("is_member") is False:
        return (f"certdesk is not a member of CERTDESK_ESCALATION_CHANNEL {channel}; "
                "\"Ask compliance\" fails until /invite @certdesk there")
    return None


def say(respond: Respond, channel: str | None, message: Message) -> None:
    """To the clicker alone, leaving the answer they clicked on as it is."""
    send_response(respond, "hand-off notice", channel, response_type="ephemeral",
                  replace_original=False, **as_message(message))

