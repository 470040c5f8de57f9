"""CERTDESK_METRICS=1: `GET /metrics` in Prometheus's text format (prometheus-client).

What is exposed, and nothing else (no user, team or question ever becomes a label):

  certdesk_questions_total{surface, outcome}     counter: one per question that reached the
      engine (`AnswerService.log_request`, the one place questions are counted). surface: slash,
      dm, mention, shortcut; outcome: answered, unanswered, error, rebuilding. Help, refusals and
      rate-limit notices are not questions and are not counted.
  certdesk_question_latency_seconds{surface}     histogram: from the question's arrival to its
      answer being ready (before it is sent to Slack).
  certdesk_answered_ratio                        gauge: answered / all questions since
      `certdesk serve` started (absent before the first question). Over a window, in PromQL:
        sum(rate(certdesk_questions_total{outcome="answered"}[1h]))
          / sum(rate(certdesk_questions_total[1h]))
  certdesk_index_age_seconds                     gauge: now minus the `built_at` of the index
      build `current` points at (absent while there is none), computed at scrape time.

Several gunicorn workers: a scrape reaches one worker, so each worker's own counts alone would
be a fraction of the traffic. prometheus-client's multiprocess mode makes every worker write
its counts to its own files in a directory (PROMETHEUS_MULTIPROC_DIR) and the worker answering
the scrape adds them all up (`MultiProcessCollector`). `certdesk serve --http` creates that
directory afresh for each run (`multiprocess_directory`: private, mode 0700, removed at exit;
one left over from an earlier run would add its counts to this one's) and sets the variable
before gunicorn forks; any PROMETHEUS_MULTIPROC_DIR already set is replaced. A worker that is
restarted leaves its files behind, so totals never go down while the server runs; they start
again from zero when it is restarted, which Prometheus's rate() expects of a counter.

The two gauges are not kept in those files: they are computed by the worker answering the
scrape (the ratio from the summed counter, the index age from the manifest on disk, which
every worker shares), so no gauge needs a `multiprocess_mode`, and no `mark_process_dead` is
needed when a worker exits (that only clears the files of "live" gauges).

In a single process (tests, or an app built without that directory) the same metrics are kept
in memory in a registry private to each `Metrics`, so two apps in one process never share them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import values
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from index.store import current_path, read_manifest

PATH = "/metrics"
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

QUESTIONS = "certdesk_questions"               # exposed as certdesk_questions_total
LATENCY = "certdesk_question_latency_seconds"
RATIO = "certdesk_answered_ratio"
INDEX_AGE = "certdesk_index_age_seconds"

ANSWERED, UNANSWERED, ERROR, REBUILDING = "answered", "unanswered", "error", "rebuilding"
OUTCOMES = (ANSWERED, UNANSWERED, ERROR, REBUILDING)
# Answering takes milliseconds; a slash command acks by 1.5 s (surfaces.slash.ACK_BUDGET) and
# Slack gives up at 3 s; a late answer is abandoned at 25 s (surfaces.slash.LATE_LIMIT).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 3.0, 5.0, 10.0, 25.0)
BUILT_AT_FORMAT = "%Y-%m-%dT%H:%M:%S%z"        # index/build.py's manifest


def index_age(index_dir: Path, now: float | None = None) -> float | None:
    """Seconds since the current index build was made, or None without a readable one."""
    path = current_path(index_dir)
    if path is None:
        return None
    built_at = read_manifest(path).get("built_at")
    try:
        built = datetime.strptime(built_at, BUILT_AT_FORMAT)
    except (TypeError, ValueError):
        return None
    return max(0.0, (time.time() if now is None else now) - built.timestamp())


class _Scrape:
    """One scrape: the counter and histogram from `source` (every worker's files, or this
    process's registry), then the two gauges computed now."""

    def __init__(self, source: Collector, index_dir: Path) -> None:
        self.source = source
        self.index_dir = index_dir

    def collect(self) -> Iterable[Metric]:
        answered = total = 0.0
        for family in self.source.collect():
            if family.name == QUESTIONS:
                for sample in family.samples:
                    if sample.name == QUESTIONS + "_total":
                        total += sample.value
                        answered += sample.value if sample.labels.get("outcome") == ANSWERED else 0.0
            yield family
        if total:
            yield GaugeMetricFamily(RATIO, "Questions answered / all questions since certdesk serve started.",
                                    value=answered / total)
        age = index_age(self.index_dir)
        if age is not None:
            yield GaugeMetricFamily(INDEX_AGE, "Seconds since the index being served was built.", value=age)


class Metrics:
    """The questions counter and latency histogram of one process, and what a scrape shows.

    `multiprocess_dir`: the directory `multiprocess_directory()` made (and exported) before
    gunicorn forked; a scrape then sums the files of every worker. None: this process only.
    """

    def __init__(self, index_dir: Path, *, multiprocess_dir: Path | None = None) -> None:
        if multiprocess_dir is not None and (os.environ.get(MULTIPROC_VARIABLE) != str(multiprocess_dir)
                                             or not values.ValueClass._multiprocess):
            raise RuntimeError(f"{MULTIPROC_VARIABLE} must be set by multiprocess_directory() "
                               "before the metrics are made")
        own = CollectorRegistry()
        self.questions = Counter(QUESTIONS, "Questions that reached the engine, by surface and outcome.",
                                 ["surface", "outcome"], registry=own)
        self.latency = Histogram(LATENCY, "Seconds from a question's arrival to its answer being ready.",
                                 ["surface"], buckets=LATENCY_BUCKETS, registry=own)
        source: Collector = (own if multiprocess_dir is None
                             else MultiProcessCollector(None, path=str(multiprocess_dir)))
        self.registry = CollectorRegistry()
        self.registry.register(_Scrape(source, index_dir))

    def count(self, surface: str, outcome: str, seconds: float) -> None:
        """One question: `outcome` is one of OUTCOMES."""
        self.questions.labels(surface=surface, outcome=outcome).inc()
        self.latency.labels(surface=surface).observe(max(0.0, seconds))

    def exposition(self) -> tuple[bytes, str]:
        """The body of GET /metrics and its Content-Type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _choose_value_class() -> None:
    """prometheus-client picks in-memory or per-process-file values when it is first imported,
    from PROMETHEUS_MULTIPROC_DIR; it may already have been imported by then, so pick again."""
    values.ValueClass = values.get_value_class()


@contextmanager
def multiprocess_directory() -> Iterator[Path]:
    """A fresh private PROMETHEUS_MULTIPROC_DIR for one run of gunicorn: entered before it
    forks; removed, and the variable restored, when the process that made it leaves.

    gunicorn's workers leave through here as well (each ends with sys.exit, which unwinds the
    stack it inherited from the fork): only the process that made the directory removes it.
    """
    owner = os.getpid()
    directory = Path(tempfile.mkdtemp(prefix="certdesk-metrics-"))
    previous = os.environ.get(MULTIPROC_VARIABLE)
    os.environ[MULTIPROC_VARIABLE] = str(directory)
    _choose_value_class()
    try:
        yield directory
    finally:
        if os.getpid() == owner:
            if previous is None:
                os.environ.pop(MULTIPROC_VARIABLE, None)
            else:
                os.environ[MULTIPROC_VARIABLE] = previous
            _choose_value_class()
            shutil.rmtree(directory, ignore_errors=True)
