"""The App Home tab: how to ask, and the certifications this user may know of.

Only its user ever sees the tab, so internal certifications are listed for our own people;
a workspace that is not allowed gets nothing published.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from ..answering import APP_HOME, AnswerService, Asker
from ..blocks import render_home
from ..payloads import request_team
from ..slackcalls import describe

log = logging.getLogger(__name__)


def register(app: App, service: AnswerService) -> None:
    """Attach the listener for app_home_opened events."""

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        user = event.get("user")
        if event.get("tab") != "home" or not user:
            return
        asker = Asker(team_id=request_team(context), user_id=user, channel_id=None, channel_type=APP_HOME)
        decision = service.decide(asker, client, context)
        if not decision.allowed:
            log.info("App Home opened from a workspace that is not allowed; not published")
            return
        try:
            view = render_home(service.engine.catalog(audience=decision.audience), command=service.command)
            client.views_publish(user_id=user, view=view)
        except Exception as error:
            log.warning("views.publish for %s failed: %s", user, describe(error))
