"""The peers certdesk is measured against: one small adapter each, with one interface.

    whoosh   plain Whoosh 2.7.4 (the library certdesk is built on), as a developer would use
             it: one TEXT field with the passage, the default analyzer and BM25F, a
             QueryParser with OrGroup, the top 10 hits' stored ids.
    bm25     rank_bm25's BM25Okapi over the same tokens (Whoosh's StandardAnalyzer), in memory.
    tantivy  tantivy-py (Rust): the reference for a compiled engine. Default tokenizer and
             writer, the lenient query parser (OR by default), the top 10 hits' stored ids.

rank_bm25 and tantivy are optional (`pip install -e ".[bench]"`); `missing(name)` says why a
peer cannot run, and the benchmark reports that instead of failing.

Each peer is measured in a process of its own (`python -m bench.peers NAME WORKDIR`), so that
its peak memory is its own: it reads the passages and questions that run.py wrote to WORKDIR,
builds, times each question with time.perf_counter, and prints one JSON object.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import resource
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TOP = 10


@dataclass(frozen=True)
class PeerInfo:
    name: str
    library: str      # what the table says the peer is
    module: str       # what must be importable
    install: str      # the PyPI package that provides it


PEERS: dict[str, PeerInfo] = {
    "whoosh": PeerInfo("whoosh", "Whoosh 2.7.4, BM25F, OrGroup query parser", "whoosh", "Whoosh"),
    "bm25": PeerInfo("bm25", "rank_bm25 BM25Okapi, Whoosh StandardAnalyzer tokens", "rank_bm25", "rank_bm25"),
    "tantivy": PeerInfo("tantivy", "tantivy-py (Rust), default tokenizer, OR query", "tantivy", "tantivy"),
}


def missing(name: str) -> str | None:
    """Why peer `name` cannot run here, or None when it can."""
    info = PEERS[name]
    try:
        found = importlib.util.find_spec(info.module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return f"not installed: pip install {info.install} (or pip install -e \".[bench]\")"
    return None


def _text(passage: dict) -> str:
    return f"{passage['title']}\n\n{passage['text']}"


class Peer:
    """build() then search() per question; size() is the index's bytes on disk (None: in memory)."""

    def __init__(self, directory: Path):
        self.directory = directory

    def build(self, passages: Sequence[dict]) -> None:
        raise NotImplementedError

    def search(self, question: str) -> list[str]:
        raise NotImplementedError

    def size(self) -> int | None:
        return sum(p.stat().st_size for p in self.directory.rglob("*") if p.is_file())

    def close(self) -> None:
        pass


class WhooshPeer(Peer):
    def build(self, passages: Sequence[dict]) -> None:
        from whoosh import index, qparser
        from whoosh.fields import ID, TEXT, Schema

        self.directory.mkdir(parents=True, exist_ok=True)
        schema = Schema(id=ID(stored=True), title=TEXT(stored=True), text=TEXT)
        ix = index.create_in(str(self.directory), schema)
        writer = ix.writer()
        for i, p in enumerate(passages):
            writer.add_document(id=str(i), title=p["title"], text=_text(p))
        writer.commit()
        self._ix = ix
        self._searcher = ix.searcher()
        self._parser = qparser.QueryParser("text", ix.schema, group=qparser.OrGroup)

    def search(self, question: str) -> list[str]:
        query = self._parser.parse(question)
        return [hit["id"] for hit in self._searcher.search(query, limit=TOP)]

    def close(self) -> None:
        self._searcher.close()
        self._ix.close()


class Bm25Peer(Peer):
    def build(self, passages: Sequence[dict]) -> None:
        from rank_bm25 import BM25Okapi
        from whoosh.analysis import StandardAnalyzer

        self._analyzer = StandardAnalyzer()
        self._bm25 = BM25Okapi([self._tokens(_text(p)) for p in passages])

    def _tokens(self, text: str) -> list[str]:
        return [t.text for t in self._analyzer(text)]

    def search(self, question: str) -> list[str]:
        import numpy

        scores = self._bm25.get_scores(self._tokens(question))
        top = numpy.argsort(scores)[::-1][:TOP]
        return [str(i) for i in top if scores[i] > 0]

    def size(self) -> int | None:
        return None


class TantivyPeer(Peer):
    def build(self, passages: Sequence[dict]) -> None:
        import tantivy

        self.directory.mkdir(parents=True, exist_ok=True)
        builder = tantivy.SchemaBuilder()
        builder.add_unsigned_field("id", stored=True, indexed=False)
        builder.add_text_field("title", stored=True)
        builder.add_text_field("text")
        ix = tantivy.Index(builder.build(), path=str(self.directory))
        writer = ix.writer()
        for i, p in enumerate(passages):
            writer.add_document(tantivy.Document(id=i, title=p["title"], text=_text(p)))
        writer.commit()
        writer.wait_merging_threads()
        ix.reload()
        self._ix = ix
        self._searcher = ix.searcher()

    def search(self, question: str) -> list[str]:
        query, _errors = self._ix.parse_query_lenient(question, ["text"])
        hits = self._searcher.search(query, TOP).hits
        return [str(self._searcher.doc(address)["id"][0]) for _score, address in hits]


ADAPTERS: dict[str, type[Peer]] = {"whoosh": WhooshPeer, "bm25": Bm25Peer, "tantivy": TantivyPeer}


def _peak_rss() -> int:
    """This process's peak resident memory so far, in bytes: VmHWM where /proc has it (rusage's
    ru_maxrss would count the parent's size, which Linux carries across fork and exec)."""
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def measure(name: str, workdir: Path) -> dict:
    """Build peer `name` over workdir's passages and time workdir's questions."""
    passages = [json.loads(line) for line in (workdir / "passages.jsonl").read_text(encoding="utf-8").splitlines()]
    plan = json.loads((workdir / "questions.json").read_text(encoding="utf-8"))
    directory = workdir / f"peer-{name}"
    shutil.rmtree(directory, ignore_errors=True)
    peer = ADAPTERS[name](directory)
    gc.collect()
    baseline = _peak_rss()
    started = time.perf_counter()
    peer.build(passages)
    build_seconds = time.perf_counter() - started
    build_peak = _peak_rss()
    del passages
    for question in plan["warmup"]:
        peer.search(question)
    timings: list[float] = []
    hits = 0
    for _ in range(plan["repeat"]):
        for question in plan["measured"]:
            started = time.perf_counter()
            found = peer.search(question)
            timings.append(time.perf_counter() - started)
            hits += bool(found)
    size = peer.size()
    peer.close()
    return {"build_seconds": build_seconds, "peak_rss_bytes": build_peak, "baseline_rss_bytes": baseline,
            "index_bytes": size, "timings": timings, "with_hits": hits}


def main(argv: Sequence[str] | None = None) -> int:
    name, workdir = (argv if argv is not None else sys.argv[1:])
    print(json.dumps(measure(name, Path(workdir))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
