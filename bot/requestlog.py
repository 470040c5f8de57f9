"""One log line per question answered in Slack, for whoever runs certdesk.

What an operator needs to see the service working: which surface, whether it was answered,
the top certification, how long it took, which workspace. Nothing of the asker beyond the
salted hash the question log uses, and never the question's text, a token or a URL.
`LOG_FORMAT=json` turns every log line into one JSON object for log platforms.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

log = logging.getLogger("certdesk.requests")

LOG_FORMATS = ("text", "json")
_FIELDS = "certdesk"          # the LogRecord attribute holding a request line's fields


def log_question(*, surface: str, answered: bool | None, top: str | None, latency_ms: float,
                 team: str | None, user_hash: str | None, outcome: str = "answered") -> None:
    """The one line for one question. `answered` is None when the engine could not answer
    (`outcome` then says why: "error", "rebuilding")."""
    fields = {"surface": surface, "outcome": outcome, "answered": answered, "top": top,
              "latency_ms": round(latency_ms), "team": team, "user": user_hash}
    log.info("question surface=%s outcome=%s answered=%s top=%s latency_ms=%d team=%s user=%s",
             surface, outcome, answered, json.dumps(top, ensure_ascii=False), round(latency_ms),
             team, user_hash, extra={_FIELDS: fields})


class JsonFormatter(logging.Formatter):
    """Each record as one JSON object: time, level, logger, message, and a request line's
    fields at the top level, so a log platform can filter on them."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                    + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, _FIELDS, {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(log_format: str = "text", *, level: int = logging.INFO) -> None:
    """Logging for `certdesk serve`: INFO to stderr, as text or JSON. slack_sdk stays at
    WARNING: at DEBUG it logs response URLs, which are short-lived capabilities."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("slack_sdk").setLevel(max(level, logging.WARNING))
