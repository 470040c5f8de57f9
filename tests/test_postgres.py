"""CERTDESK_DB=postgresql://…: one question log, salt and de-dup record for several replicas.

Against a real PostgreSQL server the test module starts on 127.0.0.1 (tests/postgres_support.py;
skipped, with the reason, when it is not installed). Two `QuestionLog`s or records on one
database stand for two replicas: each has its own connections and memory, and all they share
is the database. The last test runs two real `certdesk serve --http` processes on it.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from postgres_support import postgres_server, postgres_url  # noqa: F401  (fixtures)
from redis_support import free_port
from serve_process import ServeProcess, serve_env, start, stop, wait_until_healthy
from slack_fixtures import slack_paths  # noqa: F401  (fixture)
from slackstub.fixtures import fake_slack  # noqa: F401  (fixture)

from bot.app import open_question_log, shared_seen_record
from bot.cli import main
from bot.dedup import RedisDeduplicator, SqliteDeduplicator, make_deduplicator
from bot.pgstore import SCHEMA_VERSION as PG_SCHEMA_VERSION
from bot.pgstore import PostgresDeduplicator, describe, redact
from bot.questionlog import SCHEMA_VERSION, STORED_SALT, QuestionLog, ReportRow, SchemaTooNew
from bot.settings import Settings, SettingsError
from index.answer import Answer, Result

SALT = "test-salt-0123456789abcdef"
T0 = 1_790_000_000.0
DAY = 86_400.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def ask(qlog: QuestionLog, question: str, *, answered: bool = False, user: str = "U0ALICE") -> int:
    answer = (Answer(question, True, (Result("ISO 27001", "Certificate", "…"),)) if answered
              else Answer(question, False))
    return qlog.record(team_id="T0HOME", channel_type="im", user_id=user, question=question,
                       answer=answer, latency_ms=5.0)


def rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def password_of(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


@pytest.fixture()
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CERTDESK_DB", "CERTDESK_USER_SALT", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)


# --- settings (no server needed) -------------------------------------------------------------


@pytest.mark.parametrize("url", ["postgresql://certdesk:s3cret-pw@db.internal:5432/certdesk",
                                 "postgres://certdesk@10.0.0.9/certdesk?sslmode=require"])
def test_a_postgres_url_is_accepted_and_never_shown(url: str) -> None:
    settings = Settings.from_env({"CERTDESK_DB": url})
    assert settings.db_url == url
    assert settings.question_log_target == url and settings.dedup_target == url
    shown = repr(settings)
    assert "s3cret" not in shown and "db.internal" not in shown and "10.0.0.9" not in shown
    assert "db_url=set" in shown


def test_a_path_is_still_a_path() -> None:
    settings = Settings.from_env({"CERTDESK_DB": "/var/lib/certdesk/log.sqlite3"})
    assert settings.db_url == "" and settings.question_log_target == Path("/var/lib/certdesk/log.sqlite3")
    assert settings.dedup_target == Path("/var/lib/certdesk/seen.sqlite3")
    assert "db_url=unset" in repr(settings)


@pytest.mark.parametrize("value", ["mysql://root:pw-4d3c@db/certdesk", "sqlite:///var/lib/x.db",
                                   "http://user:pw-4d3c@db"])
def test_any_other_url_is_refused_without_showing_it(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"CERTDESK_DB": value})
    assert "CERTDESK_DB" in str(refused.value) and "postgresql://" in str(refused.value)
    assert "pw-4d3c" not in str(refused.value) and value not in str(refused.value)


def test_redact_and_describe_keep_the_password_out() -> None:
    url = "postgresql://certdesk:p%40ss-word@db.internal:5432/qlog"
    message = f'connection to {url} failed: password "p@ss-word" rejected'
    assert "p@ss-word" not in redact(message, url) and "p%40ss" not in redact(message, url)
    assert describe(url) == "PostgreSQL database qlog"
    assert "db.internal" not in describe(url)


def test_both_stores_have_the_same_schema_version() -> None:
    assert PG_SCHEMA_VERSION == SCHEMA_VERSION


# --- the question log shared by two replicas --------------------------------------------------


def test_two_replicas_record_into_one_log_and_the_report_lists_both(postgres_url, monkeypatch,
                                                                    isolated_env) -> None:
    one = QuestionLog(postgres_url, salt=STORED_SALT)
    other = QuestionLog(postgres_url, salt=STORED_SALT)
    first = ask(one, "Do we have FedRAMP?")
    second = ask(other, "Is the Sydney office TISAX certified?")
    ask(other, "Do we have FedRAMP?", user="U0BOB")
    ask(one, "answered fine", answered=True)
    assert second > first > 0
    one.close(), other.close()

    monkeypatch.setenv("CERTDESK_DB", postgres_url)
    out = io.StringIO()
    assert main(["report", "--days", "7"], out=out) == 0
    text = out.getvalue()
    lines = text.splitlines()
    assert "last 7 days" in lines[0] and "PostgreSQL database certdesk_test_" in lines[0]
    body = "\n".join(lines[2:])
    assert body.index("Do we have FedRAMP?") < body.index("Is the Sydney office TISAX certified?")
    assert "answered fine" not in body
    assert password_of(postgres_url) not in text and "127.0.0.1" not in text
    assert rows(postgres_url, "SELECT COUNT(*) FROM certdesk.questions") == [(4,)]


def test_feedback_given_on_one_replica_is_seen_by_the_other(postgres_url) -> None:
    clock = Clock()
    one = QuestionLog(postgres_url, salt=STORED_SALT, clock=clock)
    other = QuestionLog(postgres_url, salt=STORED_SALT, clock=clock)
    question_id = ask(one, "Is the Berlin site ISO 27001 certified?", answered=True)
    assert other.feedback(question_id, user_id="U1", helpful=False)
    assert one.report() == [ReportRow("Is the Berlin site ISO 27001 certified?", 1, 0, 1,
                                      datetime.fromtimestamp(T0, tz=timezone.utc))]
    # One vote per user, whichever replica the click reached: the second replaces the first.
    assert one.feedback(question_id, user_id="U1", helpful=True)
    assert other.report() == []
    assert rows(postgres_url, "SELECT helpful FROM certdesk.feedback") == [(1,)]
    assert other.feedback(999_999, user_id="U1", helpful=False) is False   # no such question
    one.close(), other.close()


def test_the_generated_salt_is_one_for_every_replica_and_kept_in_the_database(postgres_url) -> None:
    env = {"CERTDESK_DB": postgres_url}
    one, other = open_question_log(Settings.from_env(env)), open_question_log(Settings.from_env(env))
    assert one is not None and other is not None
    assert one.user_hash("U1") == other.user_hash("U1") != one.user_hash("U2")
    ((salt,),) = rows(postgres_url, "SELECT value FROM certdesk.meta WHERE name = 'user_salt'")
    assert len(salt) == 64
    assert one.user_hash("U1") == hmac.new(salt.encode(), b"U1", hashlib.sha256).hexdigest()
    # A third replica starting later finds it, rather than making another.
    later = open_question_log(Settings.from_env(env))
    assert later is not None and later.user_hash("U1") == one.user_hash("U1")
    # A configured salt wins over the stored one.
    configured = open_question_log(Settings.from_env({**env, "CERTDESK_USER_SALT": SALT}))
    assert configured is not None
    assert configured.user_hash("U1") == hmac.new(SALT.encode(), b"U1", hashlib.sha256).hexdigest()
    for log_ in (one, other, later, configured):
        log_.close()


def test_replicas_creating_the_tables_and_salt_at_once_agree(postgres_url) -> None:
    logs = [QuestionLog(postgres_url, salt=STORED_SALT) for _ in range(6)]
    start, hashes, errors = threading.Barrier(len(logs)), [], []

    def first_use(qlog: QuestionLog) -> None:
        try:
            start.wait(timeout=10)
            ask(qlog, "q")
            hashes.append(qlog.user_hash("U1"))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(qlog,)) for qlog in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and len(set(hashes)) == 1 and len(hashes) == len(logs)
    assert rows(postgres_url, "SELECT COUNT(*) FROM certdesk.questions") == [(len(logs),)]
    for qlog in logs:
        qlog.close()


def test_the_log_behaves_as_the_sqlite_one(postgres_url) -> None:
    clock = Clock()
    qlog = QuestionLog(postgres_url, salt=SALT, clock=clock)
    ask(qlog, "Is OSPRA certified?")
    clock.now += 60
    ask(qlog, "  is   ospra CERTIFIED? ")
    clock.now += 60
    latest = ask(qlog, "IS OSPRA\tcertified?", answered=True)
    qlog.feedback(latest, user_id="U1", helpful=False)
    qlog.feedback(latest, user_id="U2", helpful=False)
    ask(qlog, "ping <@U0OTHERPERSON> about \x00 iso", user="U0RAWSECRETID")
    clock.now += 40 * DAY
    ask(qlog, "forty days later")
    assert [r.question for r in qlog.report()] == ["forty days later"]
    assert qlog.report(days=41) == [
        ReportRow("IS OSPRA certified?", 3, 2, 2, datetime.fromtimestamp(T0 + 120, tz=timezone.utc)),
        ReportRow("forty days later", 1, 1, 0, datetime.fromtimestamp(T0 + 120 + 40 * DAY, tz=timezone.utc)),
        ReportRow("ping @someone about \ufffd iso", 1, 1, 0,
                  datetime.fromtimestamp(T0 + 120, tz=timezone.utc)),
    ]
    stored = json.dumps(rows(postgres_url, "SELECT * FROM certdesk.questions"), default=str)
    assert "U0RAWSECRETID" not in stored and "U0OTHERPERSON" not in stored
    with pytest.raises(ValueError):
        qlog.report(days=0)
    qlog.close()
    with pytest.raises(ValueError, match="reading only"):
        ask(QuestionLog(postgres_url, salt=None), "q")


def test_threads_of_one_replica_record_concurrently_without_losing_rows(postgres_url) -> None:
    qlog = QuestionLog(postgres_url, salt=SALT)
    threads_n, each = 8, 25
    start, ids, errors, lock = threading.Barrier(threads_n), [], [], threading.Lock()

    def work(n: int) -> None:
        try:
            start.wait(timeout=10)
            mine = [ask(qlog, f"question {n}-{i}", user=f"U{n}") for i in range(each)]
            for question_id in mine[::5]:
                assert qlog.feedback(question_id, user_id=f"U{n}", helpful=False)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            return
        with lock:
            ids.extend(mine)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(ids) == len(set(ids)) == threads_n * each
    assert rows(postgres_url, "SELECT COUNT(*) FROM certdesk.feedback") == [(threads_n * each // 5,)]
    qlog.close()


def test_log_and_record_come_back_when_the_database_does(monkeypatch, caplog) -> None:
    from postgres_support import PostgresServer, unavailable_reason

    import bot.pgstore

    if unavailable_reason():
        pytest.skip(unavailable_reason())
    monkeypatch.setattr(bot.pgstore, "RECONNECT_INTERVAL", 0.2)
    server = PostgresServer()
    try:
        server.start()
        url = server.create_database()
        qlog, dedup = QuestionLog(url, salt=STORED_SALT), PostgresDeduplicator(url)
        first = ask(qlog, "before the outage")
        user = qlog.user_hash("U1")
        assert dedup.first("before") is True
        with caplog.at_level(logging.INFO):
            server.stop()
            with pytest.raises(psycopg.Error):
                ask(qlog, "during the outage")
            assert dedup.first("during") is True        # fail open
            assert dedup.first("during") is False       # within this process
            server.restart()
            time.sleep(0.3)                             # past the reconnect interval
            assert ask(qlog, "after the outage") > first
            assert qlog.user_hash("U1") == user
            assert dedup.first("before") is False       # kept in the database all along
            assert dedup.first("after") is True
        assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1
        assert len([r for r in caplog.records if "available again" in r.getMessage()]) == 1
        assert server.password not in caplog.text
        qlog.close(), dedup.close()
    finally:
        server.remove()


def test_a_database_from_a_newer_certdesk_is_refused(postgres_url) -> None:
    ask(QuestionLog(postgres_url, salt=SALT), "q")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE certdesk.meta SET value = %s WHERE name = 'question_log_schema'",
                     (str(SCHEMA_VERSION + 1),))
    with pytest.raises(SchemaTooNew):
        ask(QuestionLog(postgres_url, salt=SALT), "q")


def test_report_of_an_empty_database_creates_nothing(postgres_url, monkeypatch, isolated_env) -> None:
    monkeypatch.setenv("CERTDESK_DB", postgres_url)
    out = io.StringIO()
    assert main(["report"], out=out) == 0
    assert "No questions recorded yet" in out.getvalue()
    assert password_of(postgres_url) not in out.getvalue()
    assert rows(postgres_url, "SELECT to_regnamespace('certdesk')") == [(None,)]


def test_report_of_an_unreachable_database_is_one_line_without_the_password(
        monkeypatch, isolated_env, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://certdesk:pw-unreachable-77@127.0.0.1:{free_port()}/certdesk"
    monkeypatch.setenv("CERTDESK_DB", url)
    assert main(["report"], out=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert err.startswith("certdesk report: cannot read the question log") and "Traceback" not in err
    assert "pw-unreachable-77" not in err and len(err.strip().splitlines()) == 1


def test_a_database_that_is_down_fails_fast_and_the_password_is_never_logged(caplog) -> None:
    url = f"postgresql://certdesk:pw-down-5150@127.0.0.1:{free_port()}/certdesk"
    qlog = QuestionLog(url, salt=STORED_SALT)
    dedup = PostgresDeduplicator(url)
    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        for _ in range(20):
            with pytest.raises(psycopg.Error):
                ask(qlog, "q")
        assert dedup.first("k") is True              # answered anyway (fail open) ...
        assert dedup.first("k") is False             # ... still once within this process
        assert dedup.first("k2") is True
    assert time.monotonic() - started < 5            # one connection attempt per interval
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1
    assert "pw-down-5150" not in caplog.text and "127.0.0.1" not in caplog.text
    qlog.close(), dedup.close()


# --- the de-dup record shared by two replicas -------------------------------------------------


def test_two_replicas_share_the_de_dup_record(postgres_url) -> None:
    settings = Settings.from_env({"CERTDESK_DB": postgres_url})
    one, other = shared_seen_record(settings), shared_seen_record(settings)
    assert isinstance(one.dedup, PostgresDeduplicator)   # type: ignore[attr-defined]
    assert one.seen("event:Ev1") is False
    assert other.seen("event:Ev1") is True           # Slack's retry, reaching the other replica
    assert other.seen("event:Ev2") is False
    assert one.seen("event:Ev2") is True
    other.forget("event:Ev2")                        # its attempt failed: released for both
    assert one.seen("event:Ev2") is False
    # Only SHA-256 digests are stored, never the key (it may hold a user id or a question).
    stored = [key for (key,) in rows(postgres_url, "SELECT key FROM certdesk.seen")]
    assert sorted(stored) == sorted(hashlib.sha256(k.encode()).hexdigest()
                                    for k in ("event:Ev1", "event:Ev2"))
    one.dedup.close(), other.dedup.close()         # type: ignore[attr-defined]


def test_threads_of_two_replicas_racing_on_one_key_get_exactly_one_true(postgres_url) -> None:
    replicas = [PostgresDeduplicator(postgres_url), PostgresDeduplicator(postgres_url)]
    for n in range(5):
        start, won, lock = threading.Barrier(16), [], threading.Lock()

        def claim(i: int, key: str = f"key{n}") -> None:
            start.wait(timeout=10)
            got = replicas[i % 2].first(key)
            with lock:
                won.append(got)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(won) == 16 and won.count(True) == 1
    for replica in replicas:
        replica.close()


def test_a_key_counts_as_new_after_its_ttl_and_expired_rows_are_pruned(postgres_url) -> None:
    clock = Clock()
    one = PostgresDeduplicator(postgres_url, ttl=60, clock=clock, prune_interval=300)
    other = PostgresDeduplicator(postgres_url, ttl=60, clock=clock, prune_interval=300)
    assert one.first("k") is True and other.first("k") is False
    clock.now += 61
    assert other.first("k") is True and one.first("k") is False
    for n in range(5):
        one.first(f"old{n}")
    clock.now += 400
    assert one.first("fresh") is True                 # prunes what expired
    assert one.count() == 1
    one.close(), other.close()


def test_with_redis_down_replicas_fall_back_to_the_shared_postgres_record(postgres_url,
                                                                          caplog) -> None:
    # As each replica builds its record from REDIS_URL (nothing listens there) and CERTDESK_DB.
    settings = Settings.from_env({"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                                  "CERTDESK_DB": postgres_url})
    with caplog.at_level(logging.INFO, logger="bot.dedup"):
        one, other = shared_seen_record(settings), shared_seen_record(settings)
        assert isinstance(one.dedup, RedisDeduplicator)     # type: ignore[attr-defined]
        assert one.seen("event:Ev1") is False
        assert other.seen("event:Ev1") is True          # the retry, on the other replica
        assert other.seen("event:Ev2") is False
        assert one.seen("event:Ev2") is True
    down = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert down and all("PostgreSQL record shared by every replica" in m for m in down)
    assert password_of(postgres_url) not in caplog.text
    one.dedup.close(), other.dedup.close()          # type: ignore[attr-defined]


def test_make_deduplicator_picks_postgres_for_a_url(postgres_url, tmp_path) -> None:
    made = make_deduplicator(None, postgres_url)
    assert isinstance(made, PostgresDeduplicator)
    assert isinstance(make_deduplicator(None, tmp_path / "seen.sqlite3"), SqliteDeduplicator)
    made.close()  # type: ignore[attr-defined]


# --- two real `certdesk serve --http` replicas on one database ----------------------------------


def test_two_serve_processes_share_one_database(postgres_url, fake_slack, slack_paths, tmp_path,
                                                monkeypatch) -> None:
    """Two replicas (each gunicorn with its workers) behind no load balancer but this test:
    questions to either land in one report, a vote on one replica counts for an answer given
    by the other, the generated salt is one, and an event redelivered to the other replica is
    answered once."""
    from slackstub import CHANNEL_ID, USER_ID, event_body, message_event, post_signed, slash_command_body
    from slack_fixtures import SECRET, SECRETS, internal_channel, own_user

    from bot.blocks import FEEDBACK_DOWN_ACTION_ID
    from bot.server import WORKERS
    from slackstub.payloads import block_actions_body

    fake_slack.users[USER_ID] = own_user(USER_ID)
    fake_slack.channels["D0DM"] = internal_channel("D0DM", is_channel=False, is_im=True)
    fake_slack.channels[CHANNEL_ID] = internal_channel(CHANNEL_ID)   # where the slash commands come from
    env = serve_env(tmp_path, slack_paths, fake_slack, CERTDESK_DB=postgres_url,
                    CERTDESK_USER_SALT=None)   # no CERTDESK_USER_SALT: the stored one
    replicas: list[ServeProcess] = []
    try:
        for name in ("a", "b"):
            # A directory of its own, as on a machine of its own: nothing on disk is shared.
            home = tmp_path / f"replica-{name}"
            home.mkdir()
            replicas.append(start({**env, "HOME": str(home)}, tmp_path / f"serve-{name}.log", cwd=home))
        wait_until_healthy(*replicas)
        fake_slack.wait_for("auth.test", count=2 * (1 + WORKERS), timeout=15)  # every worker is up
        a, b = (replica.url for replica in replicas)

        def command(base: str, text: str) -> dict:
            status, _, body = post_signed(base + "/slack/events", *slash_command_body("/cert", text), SECRET)
            assert status == 200
            return json.loads(body)

        asked = {a: [f"Do we hold a quokka welfare certificate, asked on replica A ({n})?" for n in range(3)],
                 b: [f"Is the Antarctic office penguin-safe, asked on replica B ({n})?" for n in range(3)]}
        for base, questions in asked.items():
            for question in questions:
                command(base, question)
        # Answered on A, voted down on B.
        reply = command(a, "TRUCS certificate number for object storage")
        refs = {e["action_id"]: e["value"] for blk in reply["blocks"] if blk["type"] == "actions"
                for e in blk["elements"]}
        click = block_actions_body(FEEDBACK_DOWN_ACTION_ID, refs[FEEDBACK_DOWN_ACTION_ID],
                                   response_url=fake_slack.response_url("fb"))
        assert post_signed(b + "/slack/events", *click, SECRET)[0] == 200
        fake_slack.wait_for("response_url", timeout=10)
        # One DM event, delivered to A and redelivered (Slack's retry) to B: answered once.
        dm = event_body(message_event("TRUCS certificate number for object storage", channel_id="D0DM",
                                      channel_type="im"), event_id="Ev0TWOREPLICAS")
        assert post_signed(a + "/slack/events", *dm, SECRET)[0] == 200
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert post_signed(b + "/slack/events", *dm, SECRET, extra_headers=retry)[0] == 200
        fake_slack.wait_for("chat.postMessage", timeout=10)
        time.sleep(0.5)
        assert len(fake_slack.calls("chat.postMessage")) == 1
    finally:
        stop(*(replica.process for replica in replicas))

    monkeypatch.setenv("CERTDESK_DB", postgres_url)
    out = io.StringIO()
    assert main(["report"], out=out) == 0
    report = out.getvalue()
    for question in asked[a] + asked[b] + ["TRUCS certificate number for object storage"]:
        assert question in report, report
    # Both replicas hashed the one user alike, with the one salt they found in the database.
    assert len(rows(postgres_url, "SELECT DISTINCT user_hash FROM certdesk.questions")) == 1
    assert rows(postgres_url, "SELECT COUNT(*) FROM certdesk.meta WHERE name = 'user_salt'") == [(1,)]
    for name in ("a", "b"):
        assert list((tmp_path / f"replica-{name}").iterdir()) == []   # all state is in PostgreSQL
    for replica in replicas:
        output = replica.log()
        assert replica.process.returncode == 0, output
        assert password_of(postgres_url) not in output and not any(s in output for s in SECRETS)
        assert "WARNING" not in output and "ERROR" not in output, output  # nothing failed
        assert "certdesk.requests: question surface=slash" in output, output  # one line per question
