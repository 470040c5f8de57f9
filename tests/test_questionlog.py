"""The question log: what it stores (and never stores), votes, and the compliance to-do list."""

from __future__ import annotations

import sqlite3
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.questionlog import (
    SCHEMA_VERSION,
    QuestionLog,
    ReportRow,
    SchemaTooNew,
    format_report,
    normalize,
)
from index.answer import Answer, Result

SALT = "test-salt-0123456789abcdef"
DAY = 86_400.0
T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def answered(question: str, certification: str = "ISO 27001", title: str = "Certificate") -> Answer:
    return Answer(question=question, answered=True,
                  results=(Result(certification=certification, title=title, passage="…"),))


def unanswered(question: str) -> Answer:
    return Answer(question=question, answered=False)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def qlog(tmp_path, clock):
    log = QuestionLog(tmp_path / "certdesk.db", salt=SALT, clock=clock)
    yield log
    log.close()


def ask(qlog: QuestionLog, question: str, *, answer: Answer | None = None, user: str = "U0ALICE",
        latency_ms: float = 12.5) -> int:
    return qlog.record(team_id="T0HOME", channel_type="im", user_id=user, question=question,
                       answer=answer if answer is not None else unanswered(question),
                       latency_ms=latency_ms)


def rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


# --- what is stored ------------------------------------------------------------------------


def test_record_stores_the_question_and_its_top_result(qlog, tmp_path):
    first = ask(qlog, "Is the Berlin site ISO 27001 certified?",
                answer=answered("…", "ISO 27001", "Berlin data centre"), latency_ms=7.25)
    second = ask(qlog, "What about OSPRA?")
    assert second > first > 0
    stored = rows(tmp_path / "certdesk.db",
                  "SELECT id, asked_at, team_id, channel_type, question, answered,"
                  " top_certification, top_title, latency_ms FROM questions ORDER BY id")
    assert stored == [
        (first, T0, "T0HOME", "im", "Is the Berlin site ISO 27001 certified?", 1, "ISO 27001",
         "Berlin data centre", 7.25),
        (second, T0, "T0HOME", "im", "What about OSPRA?", 0, None, None, 12.5),
    ]


def test_an_unanswered_question_has_no_top_result_even_if_search_ranked_some(qlog, tmp_path):
    near_miss = Answer(question="q", answered=False,
                       results=(Result(certification="ISO 9001", title="t", passage="…"),))
    ask(qlog, "q", answer=near_miss)
    assert rows(tmp_path / "certdesk.db",
                "SELECT answered, top_certification, top_title FROM questions") == [(0, None, None)]


def test_the_raw_user_id_is_never_stored(tmp_path, clock):
    path = tmp_path / "certdesk.db"
    qlog = QuestionLog(path, salt=SALT, clock=clock)
    question_id = ask(qlog, "what is soc 2", user="U0RAWSECRETID")
    qlog.feedback(question_id, user_id="U0RAWSECRETID", helpful=False)
    ask(qlog, "ping <@U0OTHERPERSON> about iso", user="U0RAWSECRETID")
    # Read the bytes before closing too, so rows still only in the WAL file are seen.
    for stage in ("open", "closed"):
        files = [p for p in tmp_path.iterdir() if p.name.startswith("certdesk.db")]
        data = b"".join(p.read_bytes() for p in files)
        assert b"what is soc 2" in data, stage  # the check can see what was written
        assert b"U0RAWSECRETID" not in data, stage
        assert b"U0OTHERPERSON" not in data, stage
        qlog.close()
    assert rows(path, "SELECT question FROM questions WHERE id = 2") == [("ping @someone about iso",)]


def test_user_hash_is_keyed_by_the_salt(tmp_path):
    one = QuestionLog(tmp_path / "a.db", salt=SALT)
    other = QuestionLog(tmp_path / "b.db", salt=SALT + "x")
    assert one.user_hash("U1") == one.user_hash("U1") != one.user_hash("U2")
    assert one.user_hash("U1") != other.user_hash("U1")
    import hashlib
    assert one.user_hash("U1") != hashlib.sha256(b"U1").hexdigest()  # not a plain hash


def test_a_short_salt_is_refused(tmp_path):
    with pytest.raises(ValueError):
        QuestionLog(tmp_path / "q.db", salt="short")


def test_the_file_is_created_on_first_use_with_a_versioned_schema_in_wal_mode(tmp_path):
    path = tmp_path / "deep" / "dir" / "certdesk.db"
    qlog = QuestionLog(path, salt=SALT)
    assert not path.exists()
    ask(qlog, "q")
    qlog.close()
    assert rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]


def test_an_existing_file_is_reused(tmp_path):
    path = tmp_path / "certdesk.db"
    first = QuestionLog(path, salt=SALT)
    ask(first, "q1")
    first.close()
    second = QuestionLog(path, salt=SALT)
    assert ask(second, "q2") == 2
    second.close()


def test_a_file_from_a_newer_certdesk_is_refused(tmp_path):
    path = tmp_path / "certdesk.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew):
        ask(QuestionLog(path, salt=SALT), "q")


# --- feedback ------------------------------------------------------------------------------


def test_a_second_vote_replaces_the_first(qlog, tmp_path):
    question_id = ask(qlog, "q")
    assert qlog.feedback(question_id, user_id="U1", helpful=False)
    assert qlog.feedback(question_id, user_id="U1", helpful=True)
    assert qlog.feedback(question_id, user_id="U2", helpful=False)
    votes = rows(tmp_path / "certdesk.db", "SELECT helpful FROM feedback ORDER BY helpful")
    assert votes == [(0,), (1,)]


def test_feedback_on_an_unknown_question_is_refused(qlog):
    ask(qlog, "q")
    assert qlog.feedback(999, user_id="U1", helpful=False) is False


# --- report --------------------------------------------------------------------------------


def test_report_groups_by_folded_text_and_counts(qlog, clock):
    ask(qlog, "Is OSPRA certified?")
    clock.now += 60
    ask(qlog, "  is   ospra CERTIFIED? ")
    clock.now += 60
    ask(qlog, "is ospra certified?", answer=answered("is ospra certified?"))
    clock.now += 60
    latest = ask(qlog, "IS OSPRA\tcertified?", answer=answered("…"))
    qlog.feedback(latest, user_id="U1", helpful=False)
    qlog.feedback(latest, user_id="U2", helpful=False)
    qlog.feedback(latest, user_id="U3", helpful=True)
    assert qlog.report() == [ReportRow(
        question="IS OSPRA certified?", asked=4, unanswered=2, down_votes=2,
        last_asked=datetime.fromtimestamp(T0 + 180, tz=timezone.utc))]


def test_report_lists_only_unanswered_or_down_voted_questions(qlog):
    ask(qlog, "answered and liked", answer=answered("…"))
    liked = ask(qlog, "answered and voted up", answer=answered("…"))
    qlog.feedback(liked, user_id="U1", helpful=True)
    changed = ask(qlog, "voted down, then up", answer=answered("…"))
    qlog.feedback(changed, user_id="U1", helpful=False)
    qlog.feedback(changed, user_id="U1", helpful=True)
    disliked = ask(qlog, "answered but voted down", answer=answered("…"))
    qlog.feedback(disliked, user_id="U1", helpful=False)
    ask(qlog, "not answered")
    report = {row.question: (row.unanswered, row.down_votes) for row in qlog.report()}
    assert report == {"answered but voted down": (0, 1), "not answered": (1, 0)}


def test_report_puts_the_most_asked_first_then_the_most_recent(qlog, clock):
    for _ in range(3):
        ask(qlog, "asked three times")
    clock.now += 10
    ask(qlog, "asked once, earlier")
    clock.now += 10
    ask(qlog, "asked once, later")
    for _ in range(2):
        ask(qlog, "asked twice")
    assert [row.question for row in qlog.report()] == [
        "asked three times", "asked twice", "asked once, later", "asked once, earlier"]


def test_report_covers_only_the_last_n_days(qlog, clock):
    ask(qlog, "forty days ago")
    clock.now += 10 * DAY
    ask(qlog, "thirty days ago")
    clock.now += 29 * DAY
    ask(qlog, "old question asked again")
    clock.now += 0.5 * DAY
    ask(qlog, "half a day ago")
    clock.now += 0.5 * DAY  # now: T0 + 40 days
    assert [r.question for r in qlog.report()] == ["half a day ago", "old question asked again"]
    assert [r.question for r in qlog.report(days=1)] == ["half a day ago"]
    assert len(qlog.report(days=41)) == 4
    # `now` moves the window: as seen 35 days after T0, 30 days back reaches T0 + 5 days.
    as_then = qlog.report(days=30, now=datetime.fromtimestamp(T0 + 35 * DAY, tz=timezone.utc))
    assert [r.question for r in as_then] == ["thirty days ago"]


def test_report_counts_only_the_period_of_a_question_asked_before_it_too(qlog, clock):
    ask(qlog, "q")
    clock.now += 60 * DAY
    ask(qlog, "q")
    (row,) = qlog.report()
    assert row.asked == 1


def test_report_of_nothing(qlog):
    assert qlog.report() == []
    with pytest.raises(ValueError):
        qlog.report(days=0)


def test_normalize_folds_case_whitespace_and_width():
    assert normalize("  What IS\tISO\n27001? ") == "what is iso 27001?"
    assert normalize("ＩＳＯ　２７００１") == "iso 27001"


def test_format_report():
    text = format_report([
        ReportRow("Is OSPRA certified?", 4, 2, 1, datetime(2026, 11, 23, 10, 54, 30, tzinfo=timezone.utc)),
        ReportRow("What about TISAX?", 1, 1, 0, datetime(2026, 11, 20, 8, 5, tzinfo=timezone.utc)),
    ])
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[0].split() == ["asked", "unanswered", "down-votes", "last", "asked", "(UTC)",
                                "question"]
    assert lines[1].split() == ["4", "2", "1", "2026-11-23", "10:54", "Is", "OSPRA", "certified?"]
    assert lines[2].endswith("2026-11-20 08:05  What about TISAX?")
    assert lines[1].index("Is OSPRA") == lines[0].index("question")
    assert "No unanswered" in format_report([])


# --- concurrency ---------------------------------------------------------------------------


def test_threads_record_concurrently_without_losing_rows(tmp_path, clock):
    path = tmp_path / "certdesk.db"
    qlog = QuestionLog(path, salt=SALT, clock=clock)
    threads_n, each = 8, 40
    start = threading.Barrier(threads_n)
    ids: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            start.wait(timeout=30)
            mine = [ask(qlog, f"question {n}-{i}", user=f"U{n}") for i in range(each)]
            for question_id in mine[::5]:
                qlog.feedback(question_id, user_id=f"U{n}", helpful=False)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            return
        with lock:
            ids.extend(mine)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(ids) == len(set(ids)) == threads_n * each
    qlog.close()
    assert rows(path, "SELECT COUNT(*) FROM questions") == [(threads_n * each,)]
    assert rows(path, "SELECT COUNT(*) FROM feedback") == [(threads_n * each // 5,)]


def test_report_command_lists_unanswered_and_down_voted(tmp_path, monkeypatch):
    import io

    from bot.cli import main
    from index.answer import Answer, Result

    db = tmp_path / "log.sqlite3"
    monkeypatch.setenv("CERTDESK_DB", str(db))
    out = io.StringIO()
    assert main(["report"], out=out) == 0 and "No questions recorded yet" in out.getvalue()
    qlog = QuestionLog(db, salt="x" * 16)
    for _ in range(2):
        qlog.record(team_id="T1", channel_type="im", user_id="U1", question="Do we have FedRAMP?",
                    answer=Answer("Do we have FedRAMP?", False), latency_ms=3.0)
    good = Answer("TISAX level", True, (Result("TISAX", "TISAX", "Level 3."),))
    liked = qlog.record(team_id="T1", channel_type="im", user_id="U1", question="TISAX level",
                        answer=good, latency_ms=2.0)
    disliked = qlog.record(team_id="T1", channel_type="im", user_id="U2", question="HIPAA?",
                           answer=Answer("HIPAA?", True, (Result("HIPAA", "HIPAA", "x."),)), latency_ms=2.0)
    qlog.feedback(liked, user_id="U1", helpful=True)
    qlog.feedback(disliked, user_id="U2", helpful=False)
    qlog.close()
    out = io.StringIO()
    assert main(["report", "--days", "7"], out=out) == 0
    lines = out.getvalue().splitlines()
    assert "last 7 days" in lines[0]
    body = "\n".join(lines[2:])
    assert body.index("Do we have FedRAMP?") < body.index("HIPAA?")   # most frequent first
    assert "TISAX level" not in body                                # answered and liked
    assert main(["report", "--days", "0"], out=io.StringIO()) == 2


def test_read_only_log_refuses_to_record(tmp_path):
    from index.answer import Answer

    qlog = QuestionLog(tmp_path / "x.sqlite3", salt=None)
    with pytest.raises(ValueError, match="reading only"):
        qlog.record(team_id="T", channel_type="im", user_id="U", question="q",
                    answer=Answer("q", False), latency_ms=1.0)
    qlog.close()
