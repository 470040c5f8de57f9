"""`certdesk serve`: Slack over HTTP under gunicorn, or over Socket Mode.

Start-up, in the process that was launched (both modes):
  1. `Settings.missing(mode)` names any variable that is not set, and nothing starts.
  2. The index is built if it is missing or stale (`ensure_index`), once, before anything forks,
     so data errors stop start-up with one line and workers never race to build.
  3. The bot token is checked once with auth.test, so a wrong token is one clear line too.

HTTP mode: gunicorn, started in-process through `gunicorn.app.base.BaseApplication`, so
`certdesk serve --http` and the Procfile run the same code. Events, commands and
interactivity all arrive on `POST /slack/events` (Bolt's WSGI adapter, which verifies the
signature); `GET /healthz` answers "ok" without touching Slack or the index. With
CERTDESK_METRICS=1, `GET /metrics` answers in Prometheus's format, summed over every worker
(bot/metrics.py): `certdesk serve` makes a fresh private PROMETHEUS_MULTIPROC_DIR before
gunicorn forks and removes it at exit. Without it, /metrics is 404 and nothing is counted.

Process model: the engine and the Bolt app are created in each worker *after* fork
(`preload_app` stays off and `load()` runs in the worker). Forking an opened engine would
share Whoosh's open file descriptors, and with them their file offsets, between processes
that read them concurrently; and Bolt's executors and the search pool hold threads and locks,
which do not survive a fork. Opening an existing index takes milliseconds, so nothing is
gained by preloading.

How many workers: two (the number of cores we run on), each with 16 threads (gthread).
Answering costs ~5 ms of CPU, under the GIL; a second process lets two questions search at
once on two cores, and keeps answering while the other is restarted (a stalled worker, a
memory leak). The rest of a request's time is waiting on Slack, which threads overlap well.
Two processes are safe because everything that must be seen by both is outside them:
  * the de-dup record is shared (bot/dedup.py): Redis when REDIS_URL is set, else a SQLite
    file next to the question log, so a Slack retry landing on the other worker is still
    answered once;
  * the question log is one SQLite file (WAL) that both write;
  * the user-id salt is generated once, race-free, and read by both.
  * /metrics adds up every worker's counts from the files each writes in that directory.
What stays per process: the rate limit (each enforces CERTDESK_RATE_LIMIT, so a user spread
over both could get up to twice that), and the users.info / conversations.info caches (a
channel_shared event reaches one worker; the other notices within the cache's 60 s).
Raise WORKERS with the number of cores, not beyond: more processes add no CPU.

Socket Mode (SLACK_APP_TOKEN set and no --http): one process, Bolt's SocketModeHandler on
slack-sdk's built-in WebSocket client; it stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import build_context

from .answering import AnswerSource
from .app import create_app, web_client
from .metrics import PATH as METRICS_PATH
from .metrics import Metrics, multiprocess_directory
from .settings import DEFAULT_WORKERS, Mode, Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
DEFAULT_HOST = "0.0.0.0"   # a platform's router reaches the process from outside its container
WORKERS = DEFAULT_WORKERS  # the number of cores (WEB_CONCURRENCY overrides): see the module docstring
THREADS = 16
WORKER_TIMEOUT = 30        # a gthread worker whose main loop stalls this long is restarted
GRACEFUL_TIMEOUT = 10      # on SIGTERM, time for in-flight requests to finish

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class StartupError(Exception):
    """`certdesk serve` cannot start; the message says what to fix and holds no secret."""


class MissingSettings(StartupError):
    """Required environment variables are not set (the message names them)."""


# --- HTTP --------------------------------------------------------------------------------


def repair_form_body(request: BoltRequest) -> BoltRequest:
    """Undo Bolt 1.x's misreading of a form body that merely *contains* the word "payload".

    Bolt takes any such body for an interactivity payload and, finding no `payload=` field,
    parses it to {}: `/cert payload card limits`, or a user named "payloader", would be
    dropped as an unhandled request. The raw body is left untouched, so Bolt still verifies
    the signature over exactly what Slack sent.
    """
    raw = request.raw_body
    if request.body or not raw or raw.lstrip().startswith("{") or "payload" not in raw:
        return request
    params = dict(parse_qsl(raw, keep_blank_values=True))
    if params and "payload" not in params:
        request.body = params
        request.context = build_context(BoltContext({}), params)
    return request


class _BoltWSGI(SlackRequestHandler):
    """Bolt's own WSGI adapter, with `repair_form_body` applied to every request."""

    def dispatch(self, request: Any) -> BoltResponse:
        bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                   headers=request.get_headers())
        return self.app.dispatch(repair_form_body(bolt_request))


class CertdeskWSGI:
    """The WSGI callable gunicorn serves: Bolt on /slack/events, plus a cheap /healthz, and
    /metrics when given `metrics` (else that path is Bolt's 404, like any other)."""

    def __init__(self, app: App, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.slack = _BoltWSGI(app, path=EVENTS_PATH)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _plain(start_response, "200 OK", b"ok\n", head=method == "HEAD")
        if path == METRICS_PATH and method in ("GET", "HEAD") and self.metrics is not None:
            try:
                body, content_type = self.metrics.exposition()
            except Exception:
                log.exception("collecting /metrics failed")
                return _plain(start_response, "500 Internal Server Error", b"metrics unavailable\n")
            return _plain(start_response, "200 OK", body, content_type=content_type, head=method == "HEAD")
        return self.slack(environ, start_response)


def _plain(start_response: Callable[..., Any], status: str, body: bytes, *,
           content_type: str = "text/plain; charset=utf-8", head: bool = False) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
    return [b""] if head else [body]


def wsgi_app(settings: Settings, engine: AnswerSource, *, metrics_dir: Path | None = None,
             **app_options: Any) -> CertdeskWSGI:
    """The HTTP app around `engine`. Refuses to exist without a signing secret: Bolt would
    then accept requests signed with an empty key.

    With settings.metrics, questions are counted and served on /metrics: summed over every
    gunicorn worker through `metrics_dir` (`multiprocess_directory()`), else this process's."""
    if not settings.signing_secret:
        raise StartupError("SLACK_SIGNING_SECRET is not set: HTTP requests could not be verified")
    metrics = (Metrics(settings.paths.index_dir, multiprocess_dir=metrics_dir)
               if settings.metrics else None)
    return CertdeskWSGI(create_app(settings, engine, metrics=metrics, **app_options), metrics)


def _worker_app(settings: Settings, metrics_dir: Path | None = None) -> CertdeskWSGI:
    """Run in each gunicorn worker after fork: open the (already built) index, create the app."""
    from index.search import LiveEngine

    engine = LiveEngine.open(settings.paths)
    try:
        # auth.test now, so the first slash command does not spend its 3 s waiting for it.
        return wsgi_app(settings, engine, metrics_dir=metrics_dir)
    except Exception as error:
        if not _auth_test_failed(error):
            log.error("could not start a worker: %s: %s", type(error).__name__, error)
            raise
        # The parent's check passed, so this is passing trouble: failing the boot would stop
        # gunicorn altogether. Bolt calls auth.test again on the first request instead.
        log.warning("auth.test failed while starting a worker (%s); retried on the first request",
                    _reason(error))
        return wsgi_app(settings, engine, metrics_dir=metrics_dir, verify_token=False)


def _auth_test_failed(error: BaseException) -> bool:
    """Bolt's own auth.test at app creation failed (rejected, or Slack unreachable)."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError, SlackRequestError

    if isinstance(error, BoltError):
        return "auth.test" in str(error)
    return isinstance(error, (SlackApiError, SlackRequestError, OSError))


def gunicorn_options(host: str, port: int, workers: int = WORKERS) -> dict[str, Any]:
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "worker_class": "gthread",
        "workers": workers,
        "threads": THREADS,
        "timeout": WORKER_TIMEOUT,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "preload_app": False,     # see the module docstring: each worker opens its own engine
        "proc_name": "certdesk",
        "errorlog": "-",
        "loglevel": "info",
        # gunicorn >= 25.1 opens a management socket under $HOME by default: not wanted here.
        "control_socket_disable": True,
    }


def _gunicorn_application(settings: Settings, options: dict[str, Any],
                          metrics_dir: Path | None = None) -> Any:
    from gunicorn.app.base import BaseApplication

    class CertdeskGunicorn(BaseApplication):
        """gunicorn configured from code, not from argv or a config file."""

        def load_config(self) -> None:
            for name, value in options.items():
                if name in self.cfg.settings:  # older gunicorn lacks some settings
                    self.cfg.set(name, value)

        def load(self) -> WSGIApp:
            return _worker_app(settings, metrics_dir)

    return CertdeskGunicorn()


def run_http(settings: Settings, *, host: str = DEFAULT_HOST, port: int | None = None) -> int:
    """Serve until gunicorn's arbiter stops (SIGTERM: graceful).

    The arbiter, and each forked worker, ends with sys.exit(status): that SystemExit is left
    to propagate, so the process exits with gunicorn's own status. With CERTDESK_METRICS, the
    workers' metrics directory is made before gunicorn forks and removed when the arbiter ends.
    """
    options = gunicorn_options(host, port or settings.port, settings.workers)
    if not settings.metrics:
        _gunicorn_application(settings, options).run()
        return 0
    with multiprocess_directory() as directory:
        _gunicorn_application(settings, options, directory).run()
    return 0


# --- Socket Mode -------------------------------------------------------------------------


def socket_mode_handler(settings: Settings, engine: AnswerSource, **app_options: Any) -> SocketModeHandler:
    """Bolt's Socket Mode adapter (slack-sdk's built-in client: no extra dependency)."""
    app = create_app(settings, engine, **app_options)
    return SocketModeHandler(app, app_token=settings.app_token)


def run_socket_mode(settings: Settings) -> int:
    from index.search import LiveEngine

    engine = LiveEngine.open(settings.paths)
    handler = socket_mode_handler(settings, engine, verify_token=False)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            handler.connect()
        except Exception as error:
            raise StartupError(f"could not open the Socket Mode connection: {_reason(error)} "
                               "(is SLACK_APP_TOKEN an app-level xapp- token with connections:write?)") from None
        # Like Bolt's own start(): say so even when logging is quiet, or nobody can tell.
        print("certdesk serve: connected to Slack over Socket Mode (Ctrl-C to stop)", file=sys.stderr, flush=True)
        stop.wait()
    finally:
        handler.close()
        for sig, handler_before in previous.items():
            signal.signal(sig, handler_before)
    return 0


# --- start-up ----------------------------------------------------------------------------


def _reason(error: BaseException) -> str:
    from slack_sdk.errors import SlackApiError

    if isinstance(error, SlackApiError) and isinstance(error.response.data, dict):
        return str(error.response.data.get("error") or "error")
    return type(error).__name__


def _forget_secret_variables() -> None:
    """Drop the secrets from os.environ once Settings holds them.

    Bolt and slack-sdk fall back to SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_APP_TOKEN
    on their own when an argument is missing; without them in the environment, every value
    in use is the one in Settings (and no subprocess inherits them).
    """
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        os.environ.pop(name, None)


def check_token(settings: Settings) -> dict[str, Any]:
    """auth.test once: a revoked or mistyped bot token stops start-up with one line."""
    from slack_sdk.errors import SlackApiError

    try:
        return web_client(settings).auth_test().data  # type: ignore[return-value]
    except SlackApiError as error:
        raise StartupError(f"Slack rejected SLACK_BOT_TOKEN: {_reason(error)}") from None
    except Exception as error:
        raise StartupError(f"could not reach Slack at {settings.api_url}: {_reason(error)}") from None


def check_escalation(settings: Settings) -> None:
    """Say at start-up where "Ask compliance" posts, or why it will fail there (one warning:
    the operator sees a missing /invite at deploy time, not at a salesperson's first click)."""
    from .surfaces.handoff import check_escalation_channel

    escalation = settings.escalation
    if escalation is None:
        log.info("hand-off to compliance is off (CERTDESK_ESCALATION_CHANNEL is not set)")
        return
    problem = check_escalation_channel(web_client(settings), escalation)
    if problem:
        log.warning("%s", problem)
    else:
        log.info("\"Ask compliance\" posts in %s%s", escalation.channel,
                 f", tagging {escalation.group}" if escalation.group else "")


def choose_mode(settings: Settings, *, force_http: bool = False) -> Mode:
    return "http" if force_http or not settings.socket_mode else "socket"


def serve(settings: Settings, *, force_http: bool = False, host: str = DEFAULT_HOST,
          port: int | None = None, log_level: int = logging.INFO) -> int:
    """What `certdesk serve` does; raises StartupError (or the index's DataError/BuildError).

    Logging is set up for serving (INFO, one line per question, LOG_FORMAT) once every check
    has passed: a start-up refused is one line on the command line's own terms, and nothing
    else in the process has its logging changed."""
    from index.store import ensure_index

    from .requestlog import configure

    _forget_secret_variables()
    mode = choose_mode(settings, force_http=force_http)
    missing = settings.missing(mode)
    if missing:
        hint = (" (or set SLACK_APP_TOKEN to connect over Socket Mode instead)"
                if mode == "http" and not force_http else "")
        raise MissingSettings(f"{'HTTP' if mode == 'http' else 'Socket Mode'} needs "
                              f"{', '.join(missing)}, not set in the environment{hint}")
    malformed = settings.malformed(mode)
    if malformed:
        raise MissingSettings("; ".join(malformed))
    ensure_index(settings.paths)
    check_token(settings)
    configure(settings.log_format, level=log_level)
    check_escalation(settings)
    if mode == "socket":
        if settings.metrics:
            log.warning("CERTDESK_METRICS is set, but Socket Mode serves no HTTP: there is no /metrics "
                        "(serve with --http to have one)")
        return run_socket_mode(settings)
    return run_http(settings, host=host, port=port)
