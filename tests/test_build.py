"""Building the index: atomic swap, freshness by content, failures that leave it serving."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time

import pytest

from index import build as build_module
from index import store
from index.build import build_index
from index.errors import BuildError, DataError
from index.store import content_hash, current_path, ensure_index, is_fresh
from index.search import Engine

NEW_DOCUMENT = """---
title: Zephyr Cloud Assurance Seal
visibility: internal
---

Zephyr Cloud Assurance Seal

Last updated : 2026-10-01 12:00:00

Tencent Cloud was awarded the Zephyr Cloud Assurance Seal by the Zephyr Standards Board in October 2026, covering the Frankfurt and Paris regions.

### Certificates

Cloud Object Storage Services Certificate No: QX-2020-0042

Cloud Hosting No: ZB-7781
"""


def test_build_swaps_current_to_a_complete_index(corpus):
    first = build_index(corpus)
    assert current_path(corpus.index_dir) == first.path.resolve()
    second = build_index(corpus)
    assert current_path(corpus.index_dir) == second.path.resolve() != first.path.resolve()
    # The previous build is kept for readers that opened it just before the swap.
    assert first.path.is_dir()
    third = build_index(corpus)
    assert not first.path.exists() and second.path.is_dir() and third.path.is_dir()


def test_ensure_index_builds_when_missing_and_reuses_when_fresh(corpus):
    path = ensure_index(corpus)
    assert is_fresh(corpus)
    assert ensure_index(corpus) == path


def test_freshness_is_by_content_not_timestamps(corpus):
    path = ensure_index(corpus)
    seed = next(corpus.seeds_dir.glob("001_*"))
    stat = seed.stat()
    os.utime(seed, (stat.st_atime + 100, stat.st_mtime + 100))   # touched, unchanged
    assert ensure_index(corpus) == path
    text = seed.read_text(encoding="utf-8")
    seed.write_text(text.replace("15 IDCs", "16 IDCs"), encoding="utf-8")
    os.utime(seed, (stat.st_atime, stat.st_mtime))                # changed, same mtime
    assert not is_fresh(corpus)
    assert ensure_index(corpus) != path


def test_unchanged_inputs_are_recognised_without_reading_them(corpus, monkeypatch):
    path = ensure_index(corpus)
    seed = next(corpus.seeds_dir.glob("001_*"))
    stat = seed.stat()
    os.utime(seed, (stat.st_atime + 100, stat.st_mtime + 100))   # touched: one content hash
    hashed = []
    real_hash = store.content_hash
    monkeypatch.setattr(store, "content_hash", lambda paths: hashed.append(1) or real_hash(paths))
    assert ensure_index(corpus) == path and len(hashed) == 1
    # The touch was noted beside the build: from now on sizes and times suffice.
    assert ensure_index(corpus) == path and is_fresh(corpus) and len(hashed) == 1
    seed.write_text(seed.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    assert not is_fresh(corpus) and len(hashed) == 2


def test_data_change_makes_index_stale(corpus):
    ensure_index(corpus)
    before = content_hash(corpus)
    with open(corpus.data_dir / "products.yaml", "a", encoding="utf-8") as f:
        f.write("  - name: Cloud Log Service\n    names: [CLS]\n")
    assert content_hash(corpus) != before and not is_fresh(corpus)


def test_invalid_data_stops_build_and_previous_index_keeps_serving(corpus):
    good = build_index(corpus)
    (corpus.data_dir / "certifications.yaml").write_text("certifications:\n  - name: X\n    alias: [Y]\n")
    with pytest.raises(DataError) as err:
        build_index(corpus)
    assert "certifications.yaml:3" in str(err.value)
    assert current_path(corpus.index_dir) == good.path.resolve()
    engine = Engine.open_existing(corpus.index_dir)
    assert engine.ask("TISAX level").answered
    engine.close()
    assert sorted(p.name for p in (corpus.index_dir / "builds").iterdir()) == [good.path.name]


def test_interrupted_build_leaves_previous_index_and_no_debris(corpus, monkeypatch):
    good = build_index(corpus)
    real = build_module._document
    calls = {"n": 0}

    def dies_halfway(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt("simulated kill")
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "_document", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus)
    assert current_path(corpus.index_dir) == good.path.resolve()
    assert [p.name for p in (corpus.index_dir / "builds").iterdir()] == [good.path.name]


def test_empty_seeds_is_a_build_error(corpus):
    for f in corpus.seeds_dir.iterdir():
        f.unlink()
    with pytest.raises(BuildError, match="no sections"):
        build_index(corpus)


def test_new_document_is_answered_after_reindex_without_code_change(corpus):
    build_index(corpus)
    before = Engine.open_existing(corpus.index_dir)
    assert not before.ask("Zephyr assurance seal").answered
    before.close()

    (corpus.seeds_dir / "zephyr.txt").write_text(NEW_DOCUMENT, encoding="utf-8")
    engine = Engine.open(corpus)          # sees the change and rebuilds
    answer = engine.ask("do we have the Zephyr seal? certificate number for COS")
    assert answer.answered
    result = answer.results[0]
    assert result.certification == "Zephyr Cloud Assurance Seal"
    assert result.last_updated == "2026-10-01" and result.source == "zephyr.txt"
    assert [n.number for n in result.certificate_numbers][:1] == ["QX-2020-0042"]
    assert engine.ask("who awarded the zephyr seal").results[0].passage.startswith(
        "Tencent Cloud was awarded the Zephyr Cloud Assurance Seal by the Zephyr Standards Board")
    # The document is internal: a channel shared with customers never sees it.
    assert not engine.ask("Zephyr seal", audience="public").answered
    engine.close()


def test_queries_during_rebuilds_always_see_a_complete_index(corpus):
    build_index(corpus)

    def ask() -> bool:
        engine = Engine.open_existing(corpus.index_dir)
        try:
            return engine.ask("TRUCS certificate number for object storage").answered
        finally:
            engine.close()

    assert all(_ask_during_rebuilds(corpus, ask))


def test_two_builders_do_not_collide(corpus):
    results, errors = [], []

    def builder():
        try:
            results.append(build_index(corpus))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=builder) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 2
    assert current_path(corpus.index_dir) in {r.path.resolve() for r in results}


def _damage(index_dir):
    """Overwrite every Whoosh file of the current build with garbage, keeping the manifest."""
    path = current_path(index_dir)
    for f in path.iterdir():
        if f.name not in ("manifest.json", "lexicon.json"):
            f.write_bytes(b"\x00garbage")
    return path


def test_damaged_index_is_rebuilt_on_open(corpus):
    build_index(corpus)
    damaged = _damage(corpus.index_dir)
    engine = Engine.open(corpus)
    assert engine.path != damaged
    assert engine.ask("TRUCS certificate number for object storage").answered
    engine.close()


def test_damaged_index_that_cannot_be_rebuilt_stops_with_a_clear_error(corpus):
    build_index(corpus)
    _damage(corpus.index_dir)
    for f in corpus.seeds_dir.iterdir():
        f.unlink()
    with pytest.raises(BuildError, match="no sections found"):
        Engine.open(corpus)


def test_live_engine_follows_a_rebuild(corpus, monkeypatch):
    from index.search import LiveEngine

    monkeypatch.setattr(LiveEngine, "CHECK_EVERY", 0.0)
    live = LiveEngine.open(corpus)
    assert "15 IDCs" in live.ask("how many TISAX IDCs passed?").results[0].passage
    seed = next(corpus.seeds_dir.glob("001_*"))
    seed.write_text(seed.read_text(encoding="utf-8").replace("15 IDCs", "17 IDCs"), encoding="utf-8")
    assert "15 IDCs" in live.ask("how many TISAX IDCs passed?").results[0].passage   # not rebuilt yet
    build_index(corpus)
    assert "17 IDCs" in live.ask("how many TISAX IDCs passed?").results[0].passage
    live.close()


def test_live_engine_answers_throughout_rebuilds(corpus, monkeypatch):
    from index.search import LiveEngine

    monkeypatch.setattr(LiveEngine, "CHECK_EVERY", 0.0)
    live = LiveEngine.open(corpus)

    def ask() -> bool:
        answer = live.ask("TRUCS cert no for block storage")
        return answer.results[0].certificate_numbers[0].number == "05014"

    assert all(_ask_during_rebuilds(corpus, ask))
    live.close()


def _ask_during_rebuilds(corpus, ask, rebuilds: int = 3) -> list[bool]:
    """Run `ask()` in three threads while the index is rebuilt; return its results.

    Any exception in a reader fails the test: it would mean a half-built index was seen.
    """
    errors: list[BaseException] = []
    results: list[bool] = []
    stop = threading.Event()

    def ask_repeatedly():
        while not stop.is_set():
            try:
                results.append(ask())
            except BaseException as exc:
                errors.append(exc)
            time.sleep(0.02)                  # leave the builder some of the GIL

    readers = [threading.Thread(target=ask_repeatedly) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for _ in range(rebuilds):
            build_index(corpus)
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=30)
    assert not errors, errors[:3]
    assert results
    return results


# --- an index lost while serving -------------------------------------------------------------

QUESTION = "TRUCS certificate number for object storage"


def _ask_in_a_new_thread(live, question: str = QUESTION):
    """`live.ask` from a thread that has not searched yet, as a new worker thread would.

    A thread that already searched keeps reading the files its Whoosh searcher holds open,
    even once they are deleted; a new thread opens the index again, and that is what fails.
    """
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["answer"] = live.ask(question)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["answer"]


def _answered_again(live, timeout: float = 60.0):
    """Ask until the index is back (bounded); only IndexRebuilding may come meanwhile."""
    from index.search import IndexRebuilding

    deadline = time.monotonic() + timeout
    while True:
        try:
            return _ask_in_a_new_thread(live)
        except IndexRebuilding:
            assert time.monotonic() < deadline, "the index was not rebuilt in time"
            time.sleep(0.05)


def _replace_with_garbage(index_dir):
    """Damage the current build as a copy or checkout over it would: each Whoosh file replaced
    by a new file of garbage. (Truncating the files in place instead kills the process with
    SIGBUS, since Whoosh maps them into memory: nothing in Python can answer after that.)"""
    path = current_path(index_dir)
    for f in path.iterdir():
        if f.name not in ("manifest.json", "lexicon.json"):
            f.unlink()
            f.write_bytes(b"\x00garbage")
    return path


@pytest.mark.parametrize("lose", ["deleted", "damaged"])
def test_live_engine_rebuilds_an_index_lost_while_serving(corpus, lose):
    from index.search import IndexRebuilding, LiveEngine

    build_index(corpus)
    live = LiveEngine.open(corpus)
    try:
        assert live.ask(QUESTION).answered
        if lose == "deleted":
            shutil.rmtree(corpus.index_dir)
        else:
            lost = _replace_with_garbage(corpus.index_dir)
        with pytest.raises(IndexRebuilding):
            _ask_in_a_new_thread(live)
        answer = _answered_again(live)
        assert answer.answered and answer.results[0].certificate_numbers[0].number == "02016"
        path = current_path(corpus.index_dir)
        assert path is not None and live.engine.path == path
        if lose == "damaged":
            assert path != lost
    finally:
        live.close()


def test_live_engine_rebuilds_once_and_logs_once_however_many_ask(corpus, monkeypatch, caplog):
    from index import search
    from index.search import IndexRebuilding, LiveEngine

    build_index(corpus)
    live = LiveEngine.open(corpus)
    calls: list[int] = []
    release = threading.Event()
    real_ensure = search.ensure_index

    def held_ensure(paths):
        calls.append(1)
        assert release.wait(timeout=30)
        return real_ensure(paths)

    monkeypatch.setattr(search, "ensure_index", held_ensure)
    caplog.set_level(logging.INFO, logger="index.search")
    try:
        shutil.rmtree(corpus.index_dir)
        errors: list[BaseException] = []

        def ask() -> None:
            try:
                live.ask(QUESTION)
            except BaseException as exc:
                errors.append(exc)

        askers = [threading.Thread(target=ask) for _ in range(6)]
        for t in askers:
            t.start()
        for t in askers:
            t.join(timeout=30)
        assert len(errors) == 6 and all(isinstance(e, IndexRebuilding) for e in errors), errors
        assert calls == [1]                          # one rebuild, not one per question
        release.set()
        assert _answered_again(live).answered
        assert calls == [1]
    finally:
        release.set()
        live.close()
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "index.search"]
    assert [level for level, _ in records] == [logging.WARNING, logging.INFO], records


def test_live_engine_reopens_another_complete_build_without_rebuilding(corpus, monkeypatch):
    from index import search
    from index.search import LiveEngine

    build_index(corpus)
    live = LiveEngine.open(corpus)
    monkeypatch.setattr(LiveEngine, "CHECK_EVERY", 3600.0)     # it would not look on its own
    monkeypatch.setattr(search, "ensure_index", lambda paths: pytest.fail("rebuilt"))
    try:
        opened = live.engine.path
        build_index(corpus)
        newest = build_index(corpus).path.resolve()   # prunes the build `live` has open
        assert not opened.exists()
        assert _ask_in_a_new_thread(live).answered      # at once: no "being rebuilt"
        assert live.engine.path == newest
    finally:
        live.close()


def test_a_question_failing_on_a_readable_index_is_not_a_rebuild(corpus, monkeypatch):
    """Guard: only a lost index starts a rebuild; any other failure reaches the caller as is."""
    from index import search
    from index.search import LiveEngine

    build_index(corpus)
    live = LiveEngine.open(corpus)
    monkeypatch.setattr(search, "ensure_index", lambda paths: pytest.fail("rebuilt"))

    def broken(self, question, *, audience="internal"):
        raise RuntimeError("a bug, not the index")

    monkeypatch.setattr(Engine, "ask", broken)
    try:
        with pytest.raises(RuntimeError, match="a bug"):
            live.ask(QUESTION)
        assert not [t for t in threading.enumerate() if t.name == "certdesk-index-rebuild"]
    finally:
        live.close()
