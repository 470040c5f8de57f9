"""Every question asked and how it went, so the compliance team learns what is missing.

`record` keeps one row per question (the row id is the reference a feedback button carries),
`feedback` keeps one vote per user per question, and `report` turns the last weeks into a
to-do list: the questions we could not answer or answered badly, most asked first.

Privacy: users are stored only as an HMAC-SHA256 of their id under a salt only the server
knows. That still tells one asker from another (one vote each) but cannot be reversed by
hashing every id in the workspace, as a plain hash could. Other people's @-mentions in a
question are replaced before it is stored, for the same reason.

One SQLite file (created on first use, WAL, a busy timeout) may be written by every thread
and worker process of the server; each thread has its own connection. The schema version is
`PRAGMA user_version`, and migrations run in one transaction, so concurrent first uses and
older files both end up at the current version.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from index.answer import Answer

BUSY_TIMEOUT = 5.0
DAY = 86_400.0

# Index i brings a file from version i to i + 1.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE questions (
        id                INTEGER PRIMARY KEY,
        asked_at          REAL NOT NULL,      -- Unix time, UTC
        team_id           TEXT,
        channel_type      TEXT NOT NULL,
        user_hash         TEXT NOT NULL,      -- HMAC-SHA256(salt, user id), hex
        question          TEXT NOT NULL,
        normalized        TEXT NOT NULL,      -- case and whitespace folded: the report's group
        answered          INTEGER NOT NULL,
        top_certification TEXT,
        top_title         TEXT,
        latency_ms        REAL NOT NULL
    );
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE TABLE feedback (
        question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
        user_hash   TEXT NOT NULL,
        helpful     INTEGER NOT NULL,
        voted_at    REAL NOT NULL,
        PRIMARY KEY (question_id, user_hash)
    ) WITHOUT ROWID;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


class SchemaTooNew(RuntimeError):
    """The file was written by a newer certdesk; refusing to guess what its tables mean."""


@dataclass(frozen=True)
class ReportRow:
    """One question of the to-do list, with its wording as last asked."""

    question: str
    asked: int
    unanswered: int
    down_votes: int
    last_asked: datetime


def normalize(question: str) -> str:
    """The report's grouping key: "What is  ISO 27001?" and "what is iso 27001?" are one
    question. NFKC also folds full-width letters and digits into plain ones."""
    return " ".join(unicodedata.normalize("NFKC", question).casefold().split())


def scrub(question: str) -> str:
    """The question without other users' ids (`<@U123>` becomes `@someone`)."""
    return _USER_MENTION.sub("@someone", question)


class QuestionLog:
    """The question log in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path | str, *, salt: bytes | str | None,
                 clock: Callable[[], float] = time.time) -> None:
        """salt=None opens the log for reading only (`certdesk report`): nothing is hashed."""
        salt_bytes = b"" if salt is None else salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
        if salt is not None and len(salt_bytes) < 16:
            raise ValueError("the user-id salt must be at least 16 bytes: a short one can be "
                             "guessed, and with it every hashed user id")
        self._path = Path(path)
        self._salt = salt_bytes
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    # -- storage ------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection; the first one in a process brings the schema up to date."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA foreign_keys=ON")
        _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA synchronous=NORMAL")
        _migrate(conn)
        self._local.conn, self._local.pid = conn, os.getpid()
        with self._lock:
            self._connections.append(conn)
        return conn

    def user_hash(self, user_id: str) -> str:
        """The only form in which a user id is stored."""
        if not self._salt:
            raise ValueError("this question log was opened for reading only (no salt)")
        return hmac.new(self._salt, user_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def close(self) -> None:
        """Close every thread's connection (at shutdown, or at the end of a test)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # -- writing ------------------------------------------------------------------------

    def record(self, *, team_id: str | None, channel_type: str, user_id: str, question: str,
               answer: Answer, latency_ms: float) -> int:
        """Store one question and how it was answered; the row id is its feedback reference."""
        top = answer.results[0] if answer.answered and answer.results else None
        text = scrub(question)
        cursor = self._connection().execute(
            "INSERT INTO questions (asked_at, team_id, channel_type, user_hash, question,"
            " normalized, answered, top_certification, top_title, latency_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self._clock(), team_id, channel_type, self.user_hash(user_id), text, normalize(text),
             int(answer.answered), top.certification if top else None,
             top.title if top else None, float(latency_ms)))
        if cursor.lastrowid is None:  # never for a one-row INSERT; keeps the type honest
            raise RuntimeError("SQLite gave no row id for a new question")
        return cursor.lastrowid

    def feedback(self, question_id: int, *, user_id: str, helpful: bool) -> bool:
        """One vote per user per question: a second vote replaces the first.

        False if there is no such question (a button from a log that was since deleted).
        """
        try:
            self._connection().execute(
                "INSERT INTO feedback (question_id, user_hash, helpful, voted_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (question_id, user_hash) DO UPDATE"
                " SET helpful = excluded.helpful, voted_at = excluded.voted_at",
                (question_id, self.user_hash(user_id), int(helpful), self._clock()))
        except sqlite3.IntegrityError:
            return False
        return True

    # -- reading ------------------------------------------------------------------------

    def report(self, days: int = 30, now: float | datetime | None = None) -> list[ReportRow]:
        """The compliance team's to-do list: questions of the last `days` days that went
        unanswered or were voted down, grouped by their folded text, most asked first.

        `asked` counts every time the question was asked in the period, answered or not, so
        a question that fails one time in ten still shows how much it matters.
        """
        if days <= 0:
            raise ValueError("days must be positive")
        end = (self._clock() if now is None
               else now.timestamp() if isinstance(now, datetime) else float(now))
        start = end - days * DAY
        # SQLite takes the bare column `q.question` from the row that gives MAX(asked_at):
        # the group's latest wording.
        rows = self._connection().execute(
            """
            SELECT q.question, COUNT(*) AS asked, SUM(q.answered = 0) AS unanswered,
                   COALESCE(SUM(d.down), 0) AS down_votes, MAX(q.asked_at) AS last_asked
            FROM questions AS q
            LEFT JOIN (SELECT question_id, COUNT(*) AS down FROM feedback
                       WHERE helpful = 0 GROUP BY question_id) AS d ON d.question_id = q.id
            WHERE q.asked_at > ? AND q.asked_at <= ?
            GROUP BY q.normalized
            HAVING unanswered > 0 OR down_votes > 0
            ORDER BY asked DESC, last_asked DESC, q.normalized
            """, (start, end)).fetchall()
        return [ReportRow(question=" ".join(question.split()), asked=asked, unanswered=unanswered,
                          down_votes=down_votes,
                          last_asked=datetime.fromtimestamp(last, tz=timezone.utc))
                for question, asked, unanswered, down_votes, last in rows]


def format_report(rows: Sequence[ReportRow]) -> str:
    """The to-do list as a plain-text table for `certdesk report`."""
    if not rows:
        return "No unanswered or down-voted questions in this period."
    header = ("asked", "unanswered", "down-votes", "last asked (UTC)", "question")
    lines = [f"{header[0]:>5}  {header[1]:>10}  {header[2]:>10}  {header[3]:<16}  {header[4]}"]
    for row in rows:
        lines.append(f"{row.asked:>5}  {row.unanswered:>10}  {row.down_votes:>10}  "
                     f"{row.last_asked.astimezone(timezone.utc):%Y-%m-%d %H:%M}  {row.question}")
    return "\n".join(lines)


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION in one write transaction, so a second process (or
    thread) starting at the same time waits, re-reads the version and finds nothing to do."""
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(f"question log schema version {version} is newer than this "
                               f"certdesk's {SCHEMA_VERSION}")
        for script in _MIGRATIONS[version:]:
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """A migration's statements (executescript would commit the open transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError("a migration ends in an incomplete statement")
    return statements


def _retry_locked(action: Callable[[], object], attempts: int = 50) -> None:
    """Run `action`, retrying while SQLite says the file is locked: switching to WAL needs a
    moment alone with the file and does not always wait on the busy timeout."""
    for attempt in range(attempts):
        try:
            action()
            return
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)
