"""channel_shared / channel_unshared: a channel's sharing changed, so what the channel cache
knew of it is forgotten and the next question there looks it up again.

Without this, a channel that just became a Slack Connect channel could be answered from
internal documents until its cache entry expired.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from ..answering import AnswerService

log = logging.getLogger(__name__)


def register(app: App, service: AnswerService) -> None:
    """Attach the listener for both sharing events."""

    @app.event("channel_shared")
    @app.event("channel_unshared")
    def sharing_changed(event: dict[str, Any]) -> None:
        channel = event.get("channel")
        if channel:
            service.safety.channels.invalidate(channel)
            log.info("%s: %s; its sharing is looked up again", event.get("type"), channel)
