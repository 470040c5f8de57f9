"""`certdesk bench`: build, time, and print one table (or the same figures as JSON).

For each corpus (the repository's seeds/, then one generated corpus per --passages size):

  build      `certdesk index build` in a child process, with CERTDESK_SEEDS_DIR and
             CERTDESK_INDEX_DIR pointing into a scratch folder: wall time and the child's peak
             resident memory (os.wait4's ru_maxrss); index size is the bytes of the build on disk.
  query      the index opened in this process (Engine.open_existing); warm-up questions first
             (different ones from those measured), then each measured question timed with
             time.perf_counter: Engine.ask on the generated corpora, Engine.ask plus the Slack
             blocks (bot.blocks.render_answer) on seeds/. p50/p95/p99 interpolate linearly
             between the closest ranks, as numpy's default does.
  cold       `certdesk ask --json QUESTION` as a subprocess on the built index, --cold-runs
             times: the median wall time (what a shell user waits, interpreter start included).
  peers      each in a child process of its own (bench/peers.py) over the same passages and the
             same questions: build time in that process, its peak memory after building, its
             index size, the same percentiles. Peers run on the generated corpora only.

Ratios are the peer's figure divided by certdesk's: 12.0 at p99 means certdesk's p99 is
twelve times shorter.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

from index.store import current_path, is_fresh, read_manifest
from index.config import Paths

from . import corpus as gen
from .peers import PEERS, missing

DEFAULT_PASSAGES = (2000,)
DEFAULT_QUESTIONS = 200
DEFAULT_WARMUP = 20
DEFAULT_COLD_RUNS = 5
MB = 1024 * 1024


class SettingsError(ValueError):
    """A bad --passages, --peers or count: the command line's fault (exit 2)."""


@dataclass(frozen=True)
class Settings:
    passages: tuple[int, ...] = DEFAULT_PASSAGES
    questions: int = DEFAULT_QUESTIONS
    peers: tuple[str, ...] = tuple(PEERS)
    seed: int = 1
    warmup: int = DEFAULT_WARMUP
    repeat: int = 1
    cold_runs: int = DEFAULT_COLD_RUNS
    seeds: bool = True            # measure the repository's seeds/ too
    workdir: Path | None = None   # keep the corpora and indexes here (default: a temp folder, removed)

    @classmethod
    def parse(cls, *, passages: str | None = None, peers: str | None = None, **counts) -> "Settings":
        sizes = DEFAULT_PASSAGES
        if passages is not None:
            try:
                sizes = tuple(_size(p) for p in passages.split(",") if p.strip())
            except ValueError:
                raise SettingsError(f"--passages takes whole numbers separated by commas (1000,10k,50000), "
                                    f"not {passages!r}") from None
            if any(n < 1 for n in sizes):
                raise SettingsError("--passages must be at least 1")
        names: tuple[str, ...] = tuple(PEERS)
        if peers is not None:
            names = tuple(dict.fromkeys(p.strip().lower() for p in peers.split(",") if p.strip()))
            names = tuple(n for n in names if n != "none")
            unknown = [n for n in names if n not in PEERS]
            if unknown:
                raise SettingsError(f"unknown peer {', '.join(unknown)}: choose from {', '.join(PEERS)} "
                                    "(or none)")
        for name, low in (("questions", 1), ("warmup", 0), ("repeat", 1), ("cold_runs", 0)):
            if name in counts and counts[name] is not None and counts[name] < low:
                raise SettingsError(f"--{name.replace('_', '-')} must be at least {low}")
        counts = {k: v for k, v in counts.items() if v is not None}
        return cls(passages=sizes, peers=names, **counts)


def _size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    factor = 1000 if text.endswith("k") else 1
    return int(text.rstrip("k")) * factor


# --- measuring ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile, interpolating linearly between the closest ranks."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


SLOWEST = 5


def latency(timings: Sequence[float], questions: Sequence[str]) -> dict:
    """Seconds per question (in the order of `questions`, repeated) -> the figures the table
    shows, in milliseconds, and the slowest questions: where an engine's tail comes from."""
    ms = [t * 1000 for t in timings]
    asked = [questions[i % len(questions)] for i in range(len(ms))]
    slowest = sorted(zip(ms, asked), reverse=True)[:SLOWEST]
    return {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99),
            "mean_ms": statistics.fmean(ms), "max_ms": max(ms), "samples": len(ms),
            "slowest": [{"ms": t, "question": q} for t, q in slowest]}


@dataclass
class Child:
    returncode: int
    seconds: float
    peak_rss_bytes: int | None
    stdout: str
    stderr: str


def _high_water(pid: int) -> int | None:
    """A live process's peak resident memory (VmHWM), in bytes; None once it has exited."""
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_child(argv: Sequence[str], env: dict[str, str], *, poll: float = 0.005) -> Child:
    """Run a command, returning its wall time and its own peak resident memory.

    The peak is the child's VmHWM, read every `poll` seconds while it runs (it only grows, so
    the last reading is the peak but for the last few milliseconds). Not rusage's ru_maxrss:
    Linux carries that across fork and exec, so it would report at least this process's own
    size. None where /proc is not available.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        peak: list[int] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                value = _high_water(proc.pid)
                if value is not None:
                    peak[:] = [max([value, *peak])]
                # Every `poll` seconds at first, then less often (at most 20 times a second) for
                # long builds, so that watching does not take a share of the CPU being measured.
                done.wait(min(0.05, poll + (time.perf_counter() - started) / 200))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            _, status, _usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            done.set()
            watcher.join()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(proc.returncode, seconds, peak[0] if peak else None, out.read().decode("utf-8", "replace"),
                     err.read().decode("utf-8", "replace"))


def certdesk_argv() -> list[str]:
    """How a user runs certdesk: the console script beside this Python, else `python -m bot`."""
    script = Path(sys.executable).parent / "certdesk"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bot"]


def child_env(paths: Paths) -> dict[str, str]:
    """This environment with the CERTDESK_* locations of `paths`, importing the same code as this
    process (a checkout's code, when that is what is running)."""
    env = dict(os.environ)
    env.update(CERTDESK_SEEDS_DIR=str(paths.seeds_dir), CERTDESK_DATA_DIR=str(paths.data_dir),
               CERTDESK_INDEX_DIR=str(paths.index_dir))
    import bot

    root = Path(bot.__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file():
        env["PYTHONPATH"] = os.pathsep.join([str(root)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def _mb(size: int | None) -> str:
    return "?" if size is None else f"{size / MB:.0f}"


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _failure(child: Child) -> str:
    lines = [line for line in (child.stderr or child.stdout).strip().splitlines() if line.strip()]
    return f"exit {child.returncode}: {lines[-1] if lines else 'no output'}"


def measure_certdesk(paths: Paths, warmup: Sequence[str], measured: Sequence[str], *, repeat: int,
                     cold_runs: int, cold_question: str, blocks: bool,
                     progress: Callable[[str], None] = lambda message: None) -> dict:
    """Build certdesk's index in a child, then time questions in process and cold asks."""
    from index.search import Engine

    env = child_env(paths)
    built = run_child(certdesk_argv() + ["index", "build"], env)
    if built.returncode != 0:
        return {"available": True, "error": "index build failed: " + _failure(built)}
    path = current_path(paths.index_dir)
    if path is None:
        return {"available": True, "error": "index build left no index"}
    manifest = read_manifest(path)
    result: dict = {"available": True, "measures": "ask + Slack blocks" if blocks else "ask",
                    "build_seconds": built.seconds, "peak_rss_bytes": built.peak_rss_bytes,
                    "index_bytes": _dir_bytes(path), "sections_indexed": manifest.get("sections"),
                    "documents_indexed": manifest.get("documents")}
    # Said as soon as known: a long run stopped while asking still leaves the build's figures.
    progress(f"certdesk built {result['sections_indexed']} sections in {built.seconds:.1f}s, peak "
             f"{_mb(built.peak_rss_bytes)} MB, index {_mb(result['index_bytes'])} MB; asking {len(measured)} questions")
    render = None
    if blocks:
        from bot.blocks import render_answer

        render = render_answer
    gc.collect()
    engine = Engine.open_existing(paths.index_dir)
    try:
        for question in warmup:
            answer = engine.ask(question)
            if render:
                render(answer, share_button=True, feedback_ref=1)
        timings: list[float] = []
        answered = 0
        for _ in range(repeat):
            for question in measured:
                started = time.perf_counter()
                answer = engine.ask(question)
                if render:
                    # The private /cert reply: the question, quotes, share and feedback buttons.
                    render(answer, share_button=True, feedback_ref=1)
                timings.append(time.perf_counter() - started)
                answered += answer.answered
    finally:
        engine.close()
    result.update(latency(timings, measured))
    result["answered"] = answered
    # A stale index would make `certdesk ask` rebuild it, and the cold figure would be a build.
    result["fresh"] = is_fresh(paths)
    cold: list[float] = []
    for _ in range(cold_runs):
        asked = run_child(certdesk_argv() + ["ask", "--json", cold_question], env)
        try:
            json.loads(asked.stdout.splitlines()[0])
        except (IndexError, ValueError):
            asked.returncode = asked.returncode or 1
        if asked.returncode != 0:
            result["cold_error"] = _failure(asked)
            break
        cold.append(asked.seconds * 1000)
    if cold:
        result["cold_ms"] = statistics.median(cold)
        result["cold_runs_ms"] = cold
        result["cold_question"] = cold_question
    return result


def measure_peer(name: str, workdir: Path, questions: Sequence[str]) -> dict:
    reason = missing(name)
    if reason:
        return {"available": False, "reason": reason}
    env = dict(os.environ)
    import bench

    root = Path(bench.__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    child = run_child([sys.executable, "-m", "bench.peers", name, str(workdir)], env)
    if child.returncode != 0:
        return {"available": True, "error": _failure(child)}
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    result = {"available": True, "library": PEERS[name].library, "build_seconds": figures["build_seconds"],
              "peak_rss_bytes": figures["peak_rss_bytes"], "baseline_rss_bytes": figures["baseline_rss_bytes"],
              "index_bytes": figures["index_bytes"], "process_peak_rss_bytes": child.peak_rss_bytes,
              "with_hits": figures["with_hits"]}
    result.update(latency(figures["timings"], questions))
    return result


def _ratios(systems: dict) -> None:
    base = systems.get("certdesk", {})
    for name, figures in systems.items():
        if name == "certdesk" or "p50_ms" not in figures or "p50_ms" not in base:
            continue
        figures["p50_ratio"] = figures["p50_ms"] / base["p50_ms"]
        figures["p99_ratio"] = figures["p99_ms"] / base["p99_ms"]


# --- the corpora ----------------------------------------------------------------------------


def _eval_questions(path: Path) -> list[str]:
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except OSError:
        return []
    return [str(item["q"]) for item in items if isinstance(item, dict) and item.get("q")]


def seeds_corpus(settings: Settings, paths: Paths, workdir: Path, progress: Callable[[str], None]) -> dict:
    """The repository's seeds/: question -> Slack blocks, on data/eval/dev_questions.yaml."""
    eval_dir = paths.data_dir / "eval"
    measured = _eval_questions(eval_dir / "dev_questions.yaml")
    warmup = [q for q in _eval_questions(eval_dir / "extended_questions.yaml") if q not in measured][:settings.warmup]
    entry: dict = {"name": "seeds", "kind": "seeds", "seeds_dir": str(paths.seeds_dir),
                   "questions": len(measured) * settings.repeat, "systems": {}}
    if not measured:
        entry["systems"]["certdesk"] = {"available": True, "error": f"no questions in {eval_dir / 'dev_questions.yaml'}"}
        return entry
    target = Paths(seeds_dir=paths.seeds_dir, data_dir=paths.data_dir, index_dir=workdir / "seeds-index")
    figures = measure_certdesk(target, warmup, measured, repeat=settings.repeat, cold_runs=settings.cold_runs,
                               cold_question=measured[0], blocks=True, progress=progress)
    entry["systems"]["certdesk"] = figures
    entry["documents"] = figures.get("documents_indexed")
    entry["sections_indexed"] = figures.get("sections_indexed")
    return entry


def synthetic_corpus(size: int, settings: Settings, paths: Paths, workdir: Path,
                     progress: Callable[[str], None]) -> dict:
    folder = workdir / f"passages-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    progress(f"{size} passages: writing the corpus")
    corpus = gen.generate(folder / "seeds", size, seed=settings.seed)
    measured = gen.questions(corpus, settings.questions)
    warmup = gen.questions(corpus, settings.warmup, seed=settings.seed + 1_000_003) if settings.warmup else []
    seen = {q.text for q in measured}
    warmup = [q for q in warmup if q.text not in seen]
    with open(folder / "passages.jsonl", "w", encoding="utf-8") as handle:
        for p in corpus.passages:
            handle.write(json.dumps({"title": p.title, "text": p.text}, ensure_ascii=False) + "\n")
    (folder / "questions.json").write_text(json.dumps(
        {"warmup": [q.text for q in warmup], "measured": [q.text for q in measured], "repeat": settings.repeat},
        ensure_ascii=False), encoding="utf-8")
    kinds: dict[str, int] = {}
    for q in measured:
        kinds[q.kind] = kinds.get(q.kind, 0) + 1
    entry: dict = {"name": _label(size), "kind": "synthetic", "passages": len(corpus.passages),
                   "documents": corpus.documents, "corpus_bytes": corpus.bytes,
                   "questions": len(measured) * settings.repeat, "question_kinds": kinds, "systems": {}}
    target = Paths(seeds_dir=corpus.seeds_dir, data_dir=paths.data_dir, index_dir=folder / "index")
    cold_question = next((q.text for q in measured if q.kind == "number"), measured[0].text)
    progress(f"{size} passages: building and asking certdesk")
    certdesk = measure_certdesk(target, [q.text for q in warmup], [q.text for q in measured],
                                repeat=settings.repeat, cold_runs=settings.cold_runs,
                                cold_question=cold_question, blocks=False, progress=progress)
    entry["systems"]["certdesk"] = certdesk
    entry["sections_indexed"] = certdesk.get("sections_indexed")
    _said(progress, f"{size} passages: certdesk", certdesk)
    for name in settings.peers:
        progress(f"{size} passages: {name}")
        entry["systems"][name] = measure_peer(name, folder, [q.text for q in measured])
        _said(progress, f"{size} passages: {name}", entry["systems"][name])
    _ratios(entry["systems"])
    return entry


def _said(progress: Callable[[str], None], what: str, figures: dict) -> None:
    if "p50_ms" in figures:
        progress(f"{what}: p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms"
                 + (f", cold {figures['cold_ms']:.0f} ms" if "cold_ms" in figures else ""))


def _label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def growth(corpora: Sequence[dict]) -> list[dict]:
    """How p50 and p99 grow from one generated size to the next, per system."""
    synthetic = [c for c in corpora if c["kind"] == "synthetic"]
    out = []
    for a, b in zip(synthetic, synthetic[1:]):
        for name, fa in a["systems"].items():
            fb = b["systems"].get(name, {})
            if "p50_ms" in fa and "p50_ms" in fb:
                p50, p99 = fb["p50_ms"] / fa["p50_ms"], fb["p99_ms"] / fa["p99_ms"]
                out.append({"system": name, "from": a["passages"], "to": b["passages"],
                            "passages_factor": b["passages"] / a["passages"], "p50_factor": p50,
                            "p99_factor": p99, "p99_grows_faster": p99 > p50})
    return out


def run(settings: Settings, paths: Paths | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Every measurement of `settings`: the report that the table and --json show."""
    paths = paths or Paths.from_env()
    progress = progress or (lambda message: None)
    owned = settings.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="certdesk-bench-")) if owned else settings.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "benchmark": "certdesk bench",
        "settings": {"passages": list(settings.passages), "questions": settings.questions,
                     "warmup": settings.warmup, "repeat": settings.repeat, "seed": settings.seed,
                     "cold_runs": settings.cold_runs, "peers": list(settings.peers)},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "load_average_before": _load()},
        "certdesk_command": " ".join(certdesk_argv()),
        "corpora": [],
    }
    try:
        if settings.seeds:
            progress(f"seeds: building and asking certdesk ({paths.seeds_dir})")
            report["corpora"].append(seeds_corpus(settings, paths, workdir, progress))
        for size in settings.passages:
            report["corpora"].append(synthetic_corpus(size, settings, paths, workdir, progress))
    finally:
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)
    report["growth"] = growth(report["corpora"])
    report["machine"]["load_average_after"] = _load()
    return report


def _load() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# --- the table ------------------------------------------------------------------------------

COLUMNS = (("corpus", "<"), ("passages", ">"), ("indexed", ">"), ("questions", ">"), ("system", "<"),
           ("p50 ms", ">"), ("p95 ms", ">"), ("p99 ms", ">"), ("build s", ">"), ("peak MB", ">"),
           ("index MB", ">"), ("cold ms", ">"), ("×p50", ">"), ("×p99", ">"), ("answered", ">"))


def _num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    """Two significant figures below 10 (0.0047, 0.31, 4.2), whole numbers above."""
    if value is None:
        return ""
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def _row(corpus: dict, name: str, figures: dict, first: bool) -> list[str]:
    head = [corpus["name"], str(corpus.get("passages") or ""), str(corpus.get("sections_indexed") or ""),
            str(corpus["questions"])] if first else ["", "", "", ""]
    if not figures.get("available", True):
        return head + [name, "missing: see below"] + [""] * (len(COLUMNS) - 6)
    if "error" in figures:
        return head + [name, "failed: see below"] + [""] * (len(COLUMNS) - 6)
    mb = lambda b: None if b is None else b / MB   # noqa: E731
    hits = figures.get("answered", figures.get("with_hits"))
    return head + [
        name, _num(figures["p50_ms"], 2), _num(figures["p95_ms"], 2), _num(figures["p99_ms"], 2),
        _num(figures.get("build_seconds"), 2), _num(mb(figures.get("peak_rss_bytes")), 0),
        _num(mb(figures.get("index_bytes"))) or "in memory", _num(figures.get("cold_ms"), 0),
        _ratio(figures.get("p50_ratio")), _ratio(figures.get("p99_ratio")),
        "" if hits is None else f"{hits}/{figures['samples']}",
    ]


def format_table(report: dict) -> str:
    rows = [[c for c, _ in COLUMNS]]
    notes: list[str] = []
    for corpus in report["corpora"]:
        for i, (name, figures) in enumerate(corpus["systems"].items()):
            rows.append(_row(corpus, name, figures, i == 0))
            if not figures.get("available", True):
                notes.append(f"{corpus['name']} {name}: {figures['reason']}")
            elif "error" in figures:
                notes.append(f"{corpus['name']} {name}: {figures['error']}")
            elif figures.get("cold_error"):
                notes.append(f"{corpus['name']} {name} cold ask: {figures['cold_error']}")
            elif figures.get("fresh") is False:
                notes.append(f"{corpus['name']} {name}: the index was not fresh after building; "
                             "the cold figure includes a rebuild")
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) if align == "<" else cell.rjust(w)
                       for cell, w, (_, align) in zip(row, widths, COLUMNS)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    s = report["settings"]
    lines += ["",
              "p50/p95/p99: per question, in process (seeds: question to Slack blocks; generated corpora: "
              "Engine.ask, or the peer's search for its top 10).",
              "build s / peak MB: certdesk's `index build` child process (wall time, peak RSS); a peer's build "
              "inside its own process (peak RSS after building). index MB: bytes on disk.",
              f"cold ms: median of {s['cold_runs']} runs of `certdesk ask --json QUESTION` as a subprocess. "
              "×p50/×p99: the peer's figure divided by certdesk's (above 1: certdesk is faster).",
              "answered: certdesk's answered questions; for a peer, questions with at least one hit. "
              f"seed {s['seed']}, {s['warmup']} warm-up questions, each question asked {s['repeat']}×."]
    m = report["machine"]
    if m.get("load_average_before") is not None:
        lines.append(f"machine: {m['cpus']} CPUs, Python {m['python']}; load average (1, 5, 15 min) before "
                     f"{m['load_average_before']}, after {m.get('load_average_after')}: other work skews every figure.")
    for g in report.get("growth", []):
        lines.append(f"growth {g['system']} {g['from']}→{g['to']} passages (×{g['passages_factor']:g}): "
                     f"p50 ×{g['p50_factor']:.2f}, p99 ×{g['p99_factor']:.2f}"
                     + (" — p99 grows faster than p50" if g["p99_grows_faster"] else ""))
    lines += notes
    return "\n".join(lines)


def main(settings: Settings, paths: Paths, out: TextIO, *, as_json: bool = False,
         err: TextIO | None = None) -> int:
    err = err or sys.stderr

    def progress(message: str) -> None:
        err.write(f"certdesk bench: {message}\n")
        err.flush()

    report = run(settings, paths, progress)
    if as_json:
        out.write(json.dumps(report, ensure_ascii=False) + "\n")
    else:
        out.write(format_table(report) + "\n")
    failed = any("error" in f for c in report["corpora"] for f in c["systems"].values())
    return 1 if failed else 0
