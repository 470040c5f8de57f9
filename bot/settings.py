"""The Slack side's configuration: environment variables read once into one frozen object.

`certdesk serve` reads `Settings.from_env()` at start-up and hands the object down; nothing
else in bot/ looks at `os.environ`, so a test or a worker process sees exactly what the
server was started with. Secrets (the tokens, the signing secret, the user-id salt, and
REDIS_URL and a PostgreSQL CERTDESK_DB, which may carry a password) never appear in `repr()`,
in logs or in error messages: `missing()` and every SettingsError name variables, never values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from index.config import Paths, state_dir
from index.freshness import DEFAULT_STALE_DAYS, parse_stale_days

from .policy import parse_allowed_teams
from .ratelimit import DEFAULT_LIMIT

Mode = Literal["http", "socket"]

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_COMMAND = "/cert"
DEFAULT_PORT = 3000
DB_NAME = "certdesk.sqlite3"       # the question log, under .certdesk/ unless CERTDESK_DB says
DEDUP_NAME = "seen.sqlite3"        # the de-dup record without Redis: next to the question log
THREADS_NAME = "threads.sqlite3"   # what each Slack thread was answered about (bot/threadmemory.py)
MIN_SALT = 16                      # bytes; bot/questionlog.py refuses anything shorter
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# CERTDESK_DB as one of these is a PostgreSQL database shared by every replica (bot/pgstore.py).
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_ANY_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Slack ids by shape: a channel (public C…, older private G…) and a user group (S…).
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


def is_postgres_url(value: object) -> bool:
    """Whether CERTDESK_DB (or a `target` given to the question log or de-dup record) names a
    PostgreSQL database rather than a SQLite file."""
    return isinstance(value, str) and value.startswith(POSTGRES_SCHEMES)


def default_db_path() -> Path:
    """Beside the default index, so all generated state sits together."""
    return state_dir() / DB_NAME


class SettingsError(ValueError):
    """A variable is set to something unusable (the message names it, never a secret)."""


# A bot token, or one rotated by Slack's token rotation ("xoxe.xoxb-…").
BOT_TOKEN_PREFIXES = ("xoxb-", "xoxe.xoxb-")

# Worker processes for HTTP: the number of cores (2 on the machines certdesk is sized for);
# platforms set WEB_CONCURRENCY to theirs.
DEFAULT_WORKERS = 2
LOG_FORMATS = ("text", "json")


def _whole_number(text: str, name: str, default: int, what: str, low: int, high: int | None = None) -> int:
    """A whole-number variable (`what` says what it counts, for the error); unset: `default`."""
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be {what}, not {text!r}") from None
    if high is None and value < low:
        raise SettingsError(f"{name} must be at least {low}, not {value}")
    if high is not None and not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _choice(text: str, name: str, choices: tuple[str, ...]) -> str:
    if text not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {text!r}")
    return text


_ON = ("1", "true", "yes")
_OFF = ("0", "false", "no")


def _switch(text: str, name: str) -> bool:
    """An on/off variable: unset or empty is off; any other word than these is refused."""
    word = text.casefold()
    if word in _ON:
        return True
    if not word or word in _OFF:
        return False
    raise SettingsError(f"{name} must be {', '.join(_ON)} (on) or {', '.join(_OFF)} (off), not {text!r}")


def _slack_id(text: str, name: str, shape: re.Pattern[str], example: str, where: str) -> str:
    """A Slack id variable; unset: "". A name ("#compliance", "@compliance") is refused with
    where to find the id, because Slack's API only takes ids and a name would fail at the
    first hand-off instead of at start-up."""
    if text and not shape.match(text):
        raise SettingsError(f"{name} must be an ID such as {example} ({where}), not {text!r}")
    return text


@dataclass(frozen=True)
class Escalation:
    """Where "Ask compliance" hands a question: a channel certdesk posts in (our own, not
    shared), and optionally a user group tagged in the post."""

    channel: str
    group: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything `certdesk serve` needs, read once.

    `app_token` (xapp-…) selects Socket Mode; `api_url` is only changed for GovSlack
    (`https://slack-gov.com/api/`) and for tests pointing at a local stand-in.

    Trust and safety: `allowed_teams` (empty: any workspace) and `home_team` (None: the bot
    token's own team, from auth.test) feed `bot.policy.decide`; `rate_limit` is questions per
    user per minute. `db_path` is the question log; the de-dup record (without `redis_url`)
    and the generated user-id salt (without `user_salt`) live in the same directory. When
    CERTDESK_DB is a postgresql:// URL it is `db_url` instead (kept out of `repr()`: it may hold
    a password), and the question log, the salt and the de-dup record are tables in that
    database, shared by every replica; `db_path` is then unused.
    """

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    command: str = DEFAULT_COMMAND
    port: int = DEFAULT_PORT
    paths: Paths = field(default_factory=Paths.from_env)
    allowed_teams: frozenset[str] = frozenset()
    home_team: str | None = None
    rate_limit: int = DEFAULT_LIMIT
    db_path: Path = field(default_factory=default_db_path)
    user_salt: str = field(default="", repr=False)
    redis_url: str = field(default="", repr=False)
    db_url: str = field(default="", repr=False)
    workers: int = DEFAULT_WORKERS         # WEB_CONCURRENCY: gunicorn worker processes (HTTP)
    log_format: str = "text"               # LOG_FORMAT: text, or json for log platforms
    metrics: bool = False                  # CERTDESK_METRICS: GET /metrics for Prometheus (bot/metrics.py)
    escalation_channel: str = ""           # CERTDESK_ESCALATION_CHANNEL: "Ask compliance" posts here
    escalation_group: str = ""             # CERTDESK_ESCALATION_GROUP: the user group it tags
    stale_days: int = DEFAULT_STALE_DAYS   # CERTDESK_STALE_DAYS: older sources are answered with a warning

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name, "").strip()

        port = _whole_number(get("PORT"), "PORT", DEFAULT_PORT, "a port number", 1, 65535)
        command = get("CERTDESK_COMMAND") or DEFAULT_COMMAND
        if not command.startswith("/") or len(command) < 2 or any(c.isspace() for c in command):
            raise SettingsError(f"CERTDESK_COMMAND must look like /cert, not {command!r}")
        api_url = get("SLACK_API_URL") or DEFAULT_API_URL
        if not api_url.startswith(("https://", "http://")):
            raise SettingsError("SLACK_API_URL must be an http(s) URL such as https://slack.com/api/")
        if not api_url.endswith("/"):
            api_url += "/"  # slack-sdk appends the method name to it as is
        rate_limit = _whole_number(get("CERTDESK_RATE_LIMIT"), "CERTDESK_RATE_LIMIT", DEFAULT_LIMIT,
                                   "a whole number of questions per minute", 1)
        salt = get("CERTDESK_USER_SALT")
        if salt and len(salt.encode("utf-8")) < MIN_SALT:  # the value itself is never shown
            raise SettingsError(f"CERTDESK_USER_SALT must be at least {MIN_SALT} characters long "
                                "(or unset, to use a generated one)")
        redis_url = get("REDIS_URL")
        if redis_url and not redis_url.startswith(_REDIS_SCHEMES):  # may hold a password: not shown
            raise SettingsError("REDIS_URL must start with redis://, rediss:// or unix://")
        db = get("CERTDESK_DB")
        db_url = db if is_postgres_url(db) else ""
        if db and not db_url and _ANY_URL.match(db):  # may hold a password: not shown
            raise SettingsError("CERTDESK_DB must be a file path (SQLite) or a URL starting with "
                                "postgresql:// or postgres://")
        escalation_channel = _slack_id(
            get("CERTDESK_ESCALATION_CHANNEL"), "CERTDESK_ESCALATION_CHANNEL", _CHANNEL_ID, "C0123ABCD",
            "in Slack: the channel's name > About, at the bottom; not its #name")
        escalation_group = _slack_id(
            get("CERTDESK_ESCALATION_GROUP"), "CERTDESK_ESCALATION_GROUP", _GROUP_ID, "S0123ABCD",
            "the group's id from usergroups.list, not its @handle")
        if escalation_group and not escalation_channel:
            raise SettingsError("CERTDESK_ESCALATION_GROUP is set but CERTDESK_ESCALATION_CHANNEL is not: "
                                "set the channel that \"Ask compliance\" posts in (the group is tagged there)")
        try:
            stale_days = parse_stale_days(get("CERTDESK_STALE_DAYS"))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        return cls(
            bot_token=get("SLACK_BOT_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            app_token=get("SLACK_APP_TOKEN"),
            api_url=api_url,
            command=command,
            port=port,
            paths=Paths.from_env(env),
            allowed_teams=parse_allowed_teams(get("CERTDESK_ALLOWED_TEAMS")),
            home_team=get("CERTDESK_HOME_TEAM") or None,
            rate_limit=rate_limit,
            db_path=Path(db).expanduser() if db and not db_url else default_db_path(),
            user_salt=salt,
            redis_url=redis_url,
            db_url=db_url,
            workers=_whole_number(get("WEB_CONCURRENCY"), "WEB_CONCURRENCY", DEFAULT_WORKERS,
                                  "a whole number of worker processes", 1, 64),
            log_format=_choice(get("LOG_FORMAT") or "text", "LOG_FORMAT", LOG_FORMATS),
            metrics=_switch(get("CERTDESK_METRICS"), "CERTDESK_METRICS"),
            escalation_channel=escalation_channel,
            escalation_group=escalation_group,
            stale_days=stale_days,
        )

    @property
    def escalation(self) -> Escalation | None:
        """Where "Ask compliance" posts; None (no button anywhere) without
        CERTDESK_ESCALATION_CHANNEL."""
        if not self.escalation_channel:
            return None
        return Escalation(self.escalation_channel, self.escalation_group or None)

    @property
    def question_log_target(self) -> Path | str:
        """What `QuestionLog` opens: the PostgreSQL URL, else the SQLite file."""
        return self.db_url or self.db_path

    @property
    def dedup_target(self) -> Path | str:
        """The de-dup record without Redis (and Redis's fallback): a table in the PostgreSQL
        database (every replica), else the SQLite file beside the question log (every worker)."""
        return self.db_url or self.dedup_path

    @property
    def dedup_path(self) -> Path:
        """The SQLite de-dup record used when REDIS_URL is not set (shared by all workers)."""
        return self.db_path.parent / DEDUP_NAME

    @property
    def threads_target(self) -> Path | str:
        """The thread memory for follow-ups (without Redis, and Redis's stand-in): a table in
        the PostgreSQL database, else a SQLite file beside the question log."""
        return self.db_url or self.db_path.parent / THREADS_NAME

    @property
    def salt_path(self) -> Path:
        """Where the generated user-id salt is kept (0600) when CERTDESK_USER_SALT is unset."""
        return self.db_path.with_name(self.db_path.name + ".salt")

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

    def malformed(self, mode: Mode) -> list[str]:
        """Tokens that are set but cannot be what they claim, by their shape alone (never the
        value): caught before any network call, so a pasted signing secret or user token is
        one clear line instead of a rejected auth.test."""
        problems = []
        if self.bot_token and not self.bot_token.startswith(BOT_TOKEN_PREFIXES):
            problems.append("SLACK_BOT_TOKEN is not a bot token (it starts with xoxb-: the app's "
                            "'Bot User OAuth Token' under OAuth & Permissions)")
        if mode == "socket" and self.app_token and not self.app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN is not an app-level token (it starts with xapp-: "
                            "Basic Information > App-Level Tokens, with connections:write)")
        return problems

    def __repr__(self) -> str:
        """Which secrets are set, never what they are."""
        def state(value: str) -> str:
            return "set" if value else "unset"

        return (f"Settings(bot_token={state(self.bot_token)}, signing_secret={state(self.signing_secret)}, "
                f"app_token={state(self.app_token)}, api_url={self.api_url!r}, command={self.command!r}, "
                f"port={self.port}, paths={self.paths!r}, allowed_teams={sorted(self.allowed_teams)!r}, "
                f"home_team={self.home_team!r}, rate_limit={self.rate_limit}, db_path={str(self.db_path)!r}, "
                f"user_salt={state(self.user_salt)}, redis_url={state(self.redis_url)}, "
                f"db_url={state(self.db_url)}, escalation_channel={self.escalation_channel!r}, "
                f"escalation_group={self.escalation_group!r}, stale_days={self.stale_days})")
