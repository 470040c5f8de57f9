"""The slash command (/cert QUESTION): answered ephemerally, with a Share in channel button.

Internal documents may be quoted here: only the asker sees the answer. Unlike the other
surfaces it does not ack first: Slack shows what the ack carries, so the answer rides in the
ack when the look-ups and the search are quick. When they are not, the ack says "Looking…"
within `ACK_BUDGET` (Slack gives up at 3 s), and the answer follows via the response_url.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from ..answering import SLASH, SORRY, AnswerService, Asker, Reply
from ..blocks import render_text
from ..payloads import request_team
from ..slackcalls import as_message, send_response

log = logging.getLogger(__name__)

ACK_BUDGET = 1.5      # seconds a slash command waits for its answer before acking "Looking…"
LATE_LIMIT = 25.0     # after that, a late answer is given up (the response_url lasts 30 min)

LOOKING = "Looking that up…"
TOO_SLOW = "Sorry, looking that up took too long. Please try again in a minute."


def register(app: App, service: AnswerService) -> None:
    """Attach the listener for the app's slash command (CERTDESK_COMMAND)."""

    @app.command(service.command)
    def slash_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient,
                      context: BoltContext) -> None:
        text = " ".join((command.get("text") or "").split())
        channel = command.get("channel_id")
        asker = Asker(team_id=request_team(context), user_id=command.get("user_id"),
                      channel_id=channel, channel_type=SLASH)
        future = service.reply_later(asker, text, client, context, surface="slash",
                                     for_everyone=False, share_button=True)
        try:
            reply = future.result(timeout=ACK_BUDGET)
        except FutureTimeout:
            ack(response_type="ephemeral", text=LOOKING)
            answer_late(future, respond, channel)
            return
        except Exception:
            log.exception("answering a slash command in %s failed", channel)
            ack(response_type="ephemeral", **as_message(render_text(SORRY)))
            return
        ack(response_type="ephemeral", **as_message(reply.message))


def answer_late(future: Future[Reply], respond: Respond, channel: str | None) -> None:
    """Replace the "Looking…" ack with the answer once it comes, or with an apology if it
    does not come within `LATE_LIMIT`."""
    try:
        message = future.result(timeout=LATE_LIMIT).message
    except FutureTimeout:
        log.warning("a slash command in %s took over %.0f s; gave up", channel, LATE_LIMIT)
        message = render_text(TOO_SLOW)
    except Exception:
        log.exception("answering a slash command in %s failed", channel)
        message = render_text(SORRY)
    send_response(respond, "late slash-command answer", channel, response_type="ephemeral",
                  replace_original=True, unfurl_links=False, unfurl_media=False,
                  **as_message(message))
