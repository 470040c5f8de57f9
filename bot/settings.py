"""The Slack side's configuration: environment variables read once into one frozen object.

`certdesk serve` reads `Settings.from_env()` at start-up and hands the object down; nothing
else in bot/ looks at `os.environ`, so a test or a worker process sees exactly what the
server was started with. Tokens and the signing secret never appear in `repr()`, in logs or
in error messages: `missing()` names variables, never values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from index.config import Paths

Mode = Literal["http", "socket"]

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_COMMAND = "/cert"
DEFAULT_PORT = 3000


class SettingsError(ValueError):
    """A variable is set to something unusable (the message names it, never a secret)."""


@dataclass(frozen=True)
class Settings:
    """Everything `certdesk serve` needs, read once.

    `app_token` (xapp-…) selects Socket Mode; `api_url` is only changed for GovSlack
    (`https://slack-gov.com/api/`) and for tests pointing at a local stand-in.
    """

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    command: str = DEFAULT_COMMAND
    port: int = DEFAULT_PORT
    paths: Paths = field(default_factory=Paths.from_env)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name, "").strip()

        port_text = get("PORT") or str(DEFAULT_PORT)
        try:
            port = int(port_text)
        except ValueError:
            raise SettingsError(f"PORT must be a port number, not {port_text!r}") from None
        if not 0 < port < 65536:
            raise SettingsError(f"PORT must be between 1 and 65535, not {port}")
        command = get("CERTDESK_COMMAND") or DEFAULT_COMMAND
        if not command.startswith("/") or len(command) < 2 or any(c.isspace() for c in command):
            raise SettingsError(f"CERTDESK_COMMAND must look like /cert, not {command!r}")
        api_url = get("SLACK_API_URL") or DEFAULT_API_URL
        if not api_url.startswith(("https://", "http://")):
            raise SettingsError("SLACK_API_URL must be an http(s) URL such as https://slack.com/api/")
        if not api_url.endswith("/"):
            api_url += "/"  # slack-sdk appends the method name to it as is
        return cls(
            bot_token=get("SLACK_BOT_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            app_token=get("SLACK_APP_TOKEN"),
            api_url=api_url,
            command=command,
            port=port,
            paths=Paths.from_env(env),
        )

    @property
    def socket_mode(self) -> bool:
        """An app-level token is set: connect out over Socket Mode instead of serving HTTP."""
        return bool(self.app_token)

    def missing(self, mode: Mode) -> list[str]:
        """Names of the variables `mode` needs that are not set (never their values).

        The bot token is always needed; HTTP needs the signing secret to verify that a request
        came from Slack; Socket Mode needs the app-level token to open the connection.
        """
        needed = ["SLACK_BOT_TOKEN"] + (["SLACK_SIGNING_SECRET"] if mode == "http" else ["SLACK_APP_TOKEN"])
        values = {"SLACK_BOT_TOKEN": self.bot_token, "SLACK_SIGNING_SECRET": self.signing_secret,
                  "SLACK_APP_TOKEN": self.app_token}
        return [name for name in needed if not values[name]]

    def __repr__(self) -> str:
        """Which secrets are set, never what they are."""
        def state(value: str) -> str:
            return "set" if value else "unset"

        return (f"Settings(bot_token={state(self.bot_token)}, signing_secret={state(self.signing_secret)}, "
                f"app_token={state(self.app_token)}, api_url={self.api_url!r}, command={self.command!r}, "
                f"port={self.port}, paths={self.paths!r})")
