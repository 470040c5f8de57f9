"""`certdesk` on the command line: a thin layer over index/ (and, for `serve`, bot/).

Exit codes: 0 done, 1 failed (bad data, build error, evaluation below 100 %), 2 usage.
No traceback reaches a user: expected failures print one line saying what to fix.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from index.answer import Answer
from index.errors import BuildError, DataError
from index.config import Paths
from index.freshness import STALE_DAYS_VARIABLE, Freshness, parse_stale_days

if TYPE_CHECKING:
    from index.followup import Earlier, FollowUp
    from index.search import Engine

log = logging.getLogger("certdesk")

EXAMPLES = (
    'certdesk ask "TRUCS certificate number for object storage"',
    'certdesk ask --json "Are we PCI DSS level 1?"',
    "certdesk ask --json - < questions.txt",
    'certdesk ask --after "TISAX assessment level?" "and in Germany?"',
    "certdesk list",
    "certdesk report stale",
)


class UsageError(Exception):
    """Bad command-line input: exit code 2 with a hint."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="certdesk",
        description="Answers questions about the company's compliance certifications, "
                    "quoting the source documents verbatim.",
        epilog="examples:\n  " + "\n  ".join(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens (to stderr)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer a question", description=(
        "Answer a question from the certification documents. The index is built first when "
        "it is missing or when the content of seeds/, data/ or the index code changed: file sizes "
        "and times are looked at first, and a content hash decides when they moved."))
    ask.add_argument("question", nargs="*", help='the question, or "-" to read one question per line from stdin')
    ask.add_argument("--json", action="store_true", help="print the answer as one JSON object (per line)")
    ask.add_argument("--public", action="store_true",
                     help="answer from public documents only, as in a channel shared with customers")
    ask.add_argument("--after", metavar="EARLIER",
                     help="read the question as a follow-up to the question EARLIER, as the bot does "
                          "in a Slack thread it answered in")

    ev = sub.add_parser("eval", help="measure answers against evaluation questions", description=(
        "Ask every question of the evaluation files and print each miss and the totals. "
        "Exits 1 unless every measure is 100 %%."))
    ev.add_argument("files", nargs="*", type=Path,
                    help="evaluation YAML files (default: every file in data/eval/)")

    srv = sub.add_parser("serve", help="answer in Slack", description=(
        "Answer in Slack: over Socket Mode when SLACK_APP_TOKEN is set, otherwise over HTTP on "
        "POST /slack/events (gunicorn). Needs SLACK_BOT_TOKEN, plus SLACK_SIGNING_SECRET for HTTP "
        "or SLACK_APP_TOKEN for Socket Mode. The index is built first when missing or stale."))
    srv.add_argument("--http", action="store_true", help="serve HTTP even when SLACK_APP_TOKEN is set")
    srv.add_argument("--port", type=int, help="HTTP port (default: $PORT, else 3000)")
    srv.add_argument("--host", default="0.0.0.0", help="HTTP address to listen on (default: 0.0.0.0)")

    lst = sub.add_parser("list", help="every certification with its scope and last-updated date", description=(
        "Every certification the documents answer about, with its scope and the newest date its "
        "documents state, and a warning when that is more than CERTDESK_STALE_DAYS (default 730) "
        "days ago or its validity has passed. The same list as /cert list in Slack."))
    lst.add_argument("--json", action="store_true", help="print one JSON object")
    lst.add_argument("--public", action="store_true", help="public documents only, as in a shared channel")

    num = sub.add_parser("numbers", help="every certificate number with its label", description=(
        "Every certificate number the documents state, with its label and certification, exactly "
        "as the source states it. The same list as /cert numbers in Slack."))
    num.add_argument("--json", action="store_true", help="print one JSON object")
    num.add_argument("--public", action="store_true", help="public documents only, as in a shared channel")

    rep = sub.add_parser("report", help="list unanswered and down-voted questions (or: report stale)",
                         description=(
        "The compliance team's to-do list: questions asked in Slack in the last N days that "
        "went unanswered or were voted not helpful, most frequent first (from CERTDESK_DB). "
        "`certdesk report stale` lists the documents that need review instead."))
    rep.add_argument("--days", type=int, default=30, help="how far back to look (default: 30)")
    rep_sub = rep.add_subparsers(dest="report_command", metavar="stale")
    stale = rep_sub.add_parser("stale", help="sections that are old, expired or due for review", description=(
        "Every section last updated more than CERTDESK_STALE_DAYS (default 730) days ago, whose "
        "valid_until has passed or whose review_by is due, with the reason and the source file. "
        "Exit code 0 either way."))
    stale.add_argument("--json", action="store_true", help="print one JSON object")

    idx = sub.add_parser("index", help="manage the search index")
    idx_sub = idx.add_subparsers(dest="index_command", metavar="ACTION")
    bld = idx_sub.add_parser("build", help="rebuild the index from seeds/ and data/ and swap it in atomically",
                             description="Rebuild the index and swap it in atomically. A document that "
                                         "cannot be read is skipped with a warning naming it; "
                                         "the rest is indexed.")
    bld.add_argument("--strict", action="store_true",
                     help="fail (exit 1, previous index kept) when any document cannot be read, "
                          "e.g. in a docs repository's CI")
    idx_sub.add_parser("status", help="say where the index is and whether it is up to date")

    bench = sub.add_parser("bench", help="measure speed, memory and size against other search libraries",
                           description=(
        "Generate seeds-style corpora from a seed value, build certdesk's index and the peers' over "
        "the same passages, ask all of them the same questions, and print one table: p50/p95/p99 "
        "latency, build time, peak memory, index size, cold `certdesk ask` time, and each peer's "
        "latency as a multiple of certdesk's. The repository's seeds/ are measured first. "
        "Peers need the bench extra (pip install -e \".[bench]\"); a missing one is reported."))
    bench.add_argument("--passages", metavar="N[,N…]",
                       help="sizes of the generated corpora, comma-separated, e.g. 1000,10000,50000 (default: 2000)")
    bench.add_argument("--questions", type=int, metavar="N", help="questions measured per corpus (default: 200)")
    bench.add_argument("--peers", metavar="NAMES",
                       help="comma-separated: whoosh,bm25,tantivy (default: all), or none")
    bench.add_argument("--seed", type=int, help="seed value of the generated corpora and questions (default: 1)")
    bench.add_argument("--warmup", type=int, metavar="N", help="warm-up questions before timing (default: 20)")
    bench.add_argument("--repeat", type=int, metavar="N", help="times each question is timed (default: 1)")
    bench.add_argument("--cold-runs", type=int, metavar="N",
                       help="runs of `certdesk ask --json` as a subprocess per corpus (default: 5; 0: none)")
    bench.add_argument("--no-seeds", action="store_true", help="leave out the repository's seeds/")
    bench.add_argument("--workdir", type=Path, help="keep the generated corpora and indexes in this folder")
    bench.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser


# --- ask ----------------------------------------------------------------------------------------


def format_answer(answer: Answer, follow_up: FollowUp | None = None,
                  freshness: Freshness | None = None) -> str:
    """An answer for a person reading a terminal; a follow-up with what it was read as; with
    `freshness`, a warning line under each result whose source is old or expired."""
    lines = [f"Q: {follow_up.asked if follow_up else answer.question}", ""]
    if follow_up:
        lines[1:1] = [f"Follow-up to “{follow_up.earlier.question}” — searched: “{follow_up.searched}”"]
    if not answer.answered:
        lines.append("No answer: nothing in the certification documents answers this question.")
        if answer.corrections:
            lines.append("Searched for: " + ", ".join(f"{fixed} (you typed {typed})"
                                                      for typed, fixed in answer.corrections))
        lines.append("Try naming the certification (TRUCS, PCI DSS, C5 …), a country or regulator, "
                     "or the product (COS, CVM …).")
        return "\n".join(lines)
    missing = answer.not_stated_sentence()
    if missing:
        lines += [missing, ""]
    for i, r in enumerate(answer.results, 1):
        lines.append(f"{i}. {r.certification} — {r.title}")
        warning = freshness.warning(r) if freshness else None
        if warning:
            lines.append(f"   ⚠ {warning}")
        if r.certificate_numbers:
            first, *rest = r.certificate_numbers
            lines.append(f"   {first.label} No: {first.number}")
            if rest:
                lines.append("   also: " + "; ".join(f"{n.label} No: {n.number}" for n in rest))
        lines.append(f'   "{r.passage}"')
        also = [s for s in r.sources if s != r.source]
        where = f"source {r.source}" + (f" (also in {', '.join(also)})" if also else "")
        lines.append(f"   section: {r.title} · last updated {r.last_updated or 'not stated'} · {where}")
        lines.append("")
    return "\n".join(lines).rstrip()


def _questions_from(stream: TextIO) -> Iterable[str]:
    for line in stream:
        yield line.rstrip("\n")


def _ask(args: argparse.Namespace, paths: Paths, out: TextIO, stdin: TextIO) -> int:
    from index.search import Engine

    words = args.question
    if words == ["-"]:
        questions: Iterable[str] = _questions_from(stdin)
        stream = True
    else:
        question = " ".join(words).strip()
        if not question:
            raise UsageError('ask needs a question, e.g. certdesk ask "TRUCS certificate number for '
                             'object storage" (or "-" to read questions from stdin)')
        questions, stream = [question], False
    freshness = _freshness()      # read even for --json: a bad setting is said at once
    engine = Engine.open(paths)
    audience = "public" if args.public else "internal"
    earlier = _earlier(engine, args.after, audience) if args.after is not None else None
    for question in questions:
        follow_up = None
        if stream and not question.strip():
            answer = Answer(question="", answered=False)
        else:
            follow_up = _rewrite(question, earlier, engine) if earlier else None
            answer = engine.ask(follow_up.searched if follow_up else question, audience=audience)
        if args.json:
            out.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
        else:
            out.write(format_answer(answer, follow_up, freshness) + ("\n\n" if stream else "\n"))
        if stream:
            out.flush()
    return 0


def _rewrite(question: str, earlier: Earlier, engine: Engine) -> FollowUp:
    """The question read as a follow-up to `earlier` (imported here: only --after needs it,
    and a cold `certdesk ask` should import what answering needs, nothing more)."""
    from index.followup import rewrite

    return rewrite(question, earlier, engine)


def _earlier(engine: Engine, question: str, audience: str) -> Earlier:
    """What `--after QUESTION` was answered about, as a Slack thread would remember it."""
    from index.followup import Earlier

    question = " ".join(question.split())
    if not question:
        raise UsageError('--after needs the earlier question, e.g. --after "TISAX assessment level?"')
    answer = engine.ask(question, audience=audience)
    if not (answer.answered and answer.results):
        raise UsageError(f"nothing in the documents answers the earlier question “{question}”, so there "
                         "is nothing to follow up; ask the question on its own")
    return Earlier(answer.question, answer.results[0].certification)


def _freshness() -> Freshness:
    """Today and CERTDESK_STALE_DAYS, read once per command (a bad value: exit 2, naming it)."""
    try:
        stale_days = parse_stale_days(os.environ.get(STALE_DAYS_VARIABLE))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Freshness(today=dt.date.today(), stale_days=stale_days)


# --- list, numbers, report stale ----------------------------------------------------------------


def _catalogue(args: argparse.Namespace, paths: Paths, out: TextIO) -> int:
    """certdesk list / certdesk numbers: the catalogue /cert list and /cert numbers show."""
    from index import listing
    from index.search import Engine

    from . import catalogue

    freshness = _freshness()
    engine = Engine.open(paths)
    try:
        records = engine.sections(audience="public" if args.public else "internal")
    finally:
        engine.close()
    if args.command == "list":
        entries = listing.certifications(records)
        shown = (catalogue.certifications_json(entries, freshness) if args.json
                 else catalogue.certifications_text(entries, freshness))
    else:
        numbers = listing.numbers(records)
        shown = catalogue.numbers_json(numbers) if args.json else catalogue.numbers_text(numbers)
    out.write((json.dumps(shown, ensure_ascii=False) if args.json else shown) + "\n")
    return 0


def _report_stale(args: argparse.Namespace, paths: Paths, out: TextIO) -> int:
    """certdesk report stale: every section that is old, expired or due for review."""
    from index import listing
    from index.search import Engine

    from . import catalogue

    freshness = _freshness()
    engine = Engine.open(paths)
    try:
        records = engine.sections()
    finally:
        engine.close()
    items = listing.stale(records, freshness)
    counts = {"sections": len(records), "undated": len(listing.undated(records))}
    if args.json:
        out.write(json.dumps(catalogue.stale_json(items, freshness, **counts), ensure_ascii=False) + "\n")
    else:
        out.write(catalogue.stale_text(items, freshness, **counts) + "\n")
    return 0


# --- eval ---------------------------------------------------------------------------------------


def _eval(args: argparse.Namespace, paths: Paths, out: TextIO) -> int:
    from index.evaluation import Report, SourceTexts, load_questions, score
    from index.search import Engine

    eval_dir = paths.data_dir / "eval"
    files = list(args.files) or sorted(eval_dir.glob("*.yaml"))
    if not args.files:
        skipped = sorted(p.relative_to(eval_dir).parent.as_posix() for p in eval_dir.glob("*/*.yaml"))
        if skipped:
            # Held-out sets and other corpora's questions are run by naming them.
            folders = ", ".join(f"{d}/" for d in dict.fromkeys(skipped))
            out.write(f"not run (name their files to run them): {folders} in {eval_dir}\n")
    if not files:
        raise UsageError(f"no evaluation files given and none in {paths.data_dir / 'eval'}")
    for f in files:
        if not f.is_file():
            raise UsageError(f"evaluation file not found: {f}")
    engine = Engine.open(paths)
    sources = SourceTexts(paths.seeds_dir)
    report = Report()
    count = 0
    for f in files:
        for item in load_questions(f):
            score(item, engine.ask(item.q), report, sources)
            count += 1
    for miss in report.misses:
        out.write(f"MISS {miss}\n")
    out.write(f"{count} questions from {len(files)} file(s)\n")
    for line in report.lines():
        out.write(line + "\n")
    return 0 if report.perfect else 1


# --- index --------------------------------------------------------------------------------------


def _index(args: argparse.Namespace, paths: Paths, out: TextIO) -> int:
    from index.build import build_index
    from index.catalog import load_catalog
    from index.store import current_path, is_fresh, read_manifest

    if args.index_command == "build":
        info = build_index(paths, strict=args.strict)
        # Each skipped file was already logged as one warning line naming it and the reason.
        out.write(f"built index of {info.sections} sections from {info.documents} documents "
                  f"in {info.seconds:.2f}s: {info.path}\n")
        return 0
    if args.index_command == "status":
        path = current_path(paths.index_dir)
        if path is None:
            out.write(f"no index yet in {paths.index_dir} (certdesk ask or certdesk index build makes one)\n")
            return 1
        manifest = read_manifest(path)
        fresh = is_fresh(paths)
        out.write(f"index: {path}\nbuilt: {manifest.get('built_at')}, {manifest.get('sections')} sections "
                  f"from {manifest.get('documents')} documents\n")
        if fresh:
            out.write("up to date\n")
            return 0
        try:
            load_catalog(paths.data_dir)
        except DataError as exc:
            # Say what is true: no rebuild can succeed until data/ is fixed.
            out.write(f"out of date, and data/ has an error, so it cannot be rebuilt: {exc}\n"
                      "the index above keeps answering until the file is fixed\n")
            return 1
        out.write("out of date: seeds/, data/ or the index code changed (rebuilt on the next ask, "
                  "or run certdesk index build)\n")
        return 0
    raise UsageError("index needs an action: certdesk index build | certdesk index status")


# --- bench --------------------------------------------------------------------------------------


def _bench(args: argparse.Namespace, paths: Paths, out: TextIO) -> int:
    from bench.run import Settings, SettingsError, main as bench_main

    try:
        settings = Settings.parse(passages=args.passages, peers=args.peers, questions=args.questions,
                                  seed=args.seed, warmup=args.warmup, repeat=args.repeat,
                                  cold_runs=args.cold_runs, seeds=not args.no_seeds, workdir=args.workdir)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    return bench_main(settings, paths, out, as_json=args.json)


# --- serve --------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    from .server import MissingSettings, StartupError, serve
    from .settings import Settings, SettingsError

    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {args.port}")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    try:
        # Serving logs at INFO (one line per question), as text or JSON (LOG_FORMAT).
        return serve(settings, force_http=args.http, host=args.host, port=args.port,
                     log_level=logging.DEBUG if args.verbose else logging.INFO)
    except MissingSettings as exc:
        raise UsageError(str(exc)) from None
    except StartupError as exc:
        print(f"certdesk serve: {exc}", file=sys.stderr)
        return 1


# --- report -------------------------------------------------------------------------------------


def _report(args: argparse.Namespace, out: TextIO) -> int:
    from .questionlog import QuestionLog, format_report
    from .settings import Settings, SettingsError

    if args.days < 1:
        raise UsageError(f"--days must be at least 1, not {args.days}")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    log_db = QuestionLog(settings.question_log_target, salt=None)
    try:
        if not log_db.exists():
            missing = (f"{log_db.where} has no question log yet" if settings.db_url
                       else f"{log_db.where} does not exist")
            out.write(f"No questions recorded yet ({missing}; certdesk serve creates it).\n")
            return 0
        rows = log_db.report(days=args.days)
    except Exception as exc:
        if not settings.db_url or not _is_postgres_error(exc):
            raise
        from .pgstore import redact

        # libpq's reason (refused, authentication failed …), never the URL or its password.
        reason = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else "", settings.db_url)
        print(f"certdesk report: cannot read the question log in {log_db.where} (CERTDESK_DB): "
              f"{type(exc).__name__}{': ' + reason if reason else ''}", file=sys.stderr)
        return 1
    finally:
        log_db.close()
    out.write(f"Unanswered or down-voted questions of the last {args.days} days ({log_db.where}):\n")
    out.write(format_report(rows) + "\n")
    return 0


def _is_postgres_error(exc: BaseException) -> bool:
    import psycopg

    return isinstance(exc, psycopg.Error)


# --- entry point --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, stdin: TextIO | None = None) -> int:
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:          # argparse already printed usage
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    paths = Paths.from_env()
    try:
        if args.command == "ask":
            return _ask(args, paths, out, stdin)
        if args.command == "eval":
            return _eval(args, paths, out)
        if args.command == "index":
            return _index(args, paths, out)
        if args.command == "serve":
            return _serve(args)
        if args.command in ("list", "numbers"):
            return _catalogue(args, paths, out)
        if args.command == "report" and args.report_command == "stale":
            return _report_stale(args, paths, out)
        if args.command == "report":
            return _report(args, out)
        if args.command == "bench":
            return _bench(args, paths, out)
        raise UsageError(f"unknown command {args.command!r}")
    except UsageError as exc:
        print(f"certdesk {args.command}: {exc}", file=sys.stderr)
        return 2
    except (DataError, BuildError) as exc:
        print(f"certdesk: error: {exc}", file=sys.stderr)
        print("certdesk: the previous index, if any, is still in use; fix the file and run "
              "'certdesk index build'", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:            # e.g. piped into `head`
        return 0
    except Exception as exc:           # a bug: say so in one line; the traceback is for -v
        log.debug("unexpected error", exc_info=True)
        print(f"certdesk: internal error: {type(exc).__name__}: {exc} "
              "(run with -v to see where; please report it)", file=sys.stderr)
        return 1
