"""Build the Whoosh index from seeds/ and data/, and swap it in atomically.

Layout of CERTDESK_INDEX_DIR:
    builds/<stamp>/      one complete index each (Whoosh files + lexicon.json + manifest.json)
    current -> builds/<stamp>   a symlink, replaced in one rename once a build is complete
    .lock                held while building, so two processes never build at once

A failed or interrupted build leaves `current` pointing at the previous, complete index.
The previous build is kept one generation, so a reader that opened it just before the swap
can finish its question.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import re
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as windex
from whoosh.fields import ID, STORED, TEXT, Schema

from .analysis import identifiers, plain_analyzer, plain_tokens, stem, stem_analyzer
from .catalog import Catalog, Certification, load_catalog
from .codec import InMemoryLengthsCodec
from .config import Paths
from .errors import BuildError
from .ingest import Section, Skipped, load_sections
from .store import FORMAT, content_hash, current_path, document_files, fingerprint, read_manifest
from .naming import certification_of, company_names, with_bare_numbers
from .asks import HOLDS, SentenceMarker, raw_asks
from .passages import StoredNumber, sentences_of

log = logging.getLogger(__name__)

CERTIFICATIONS_YAML = "data/certifications.yaml"   # where a curated date came from (report stale)

def make_schema() -> Schema:
    # No positions (phrase=False): questions are matched term by term, never as phrases, and
    # positions were half of what a build wrote.
    stemmed, plain = stem_analyzer(), plain_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        cert=ID(stored=True),
        title=TEXT(analyzer=stemmed, stored=True, phrase=False),
        names=TEXT(analyzer=stemmed, phrase=False),     # the certification's names and aliases
        topics=TEXT(analyzer=stemmed, phrase=False),    # countries, regulators, industries
        body=TEXT(analyzer=stemmed, phrase=False),
        all=TEXT(analyzer=stemmed, phrase=False),       # everything: how rare a word is, what a section covers
        words=TEXT(analyzer=plain, phrase=False),       # unstemmed vocabulary, for spelling correction
        visibility=ID(stored=True),
        data=STORED(),                    # what an answer shows, precomputed
    )


@dataclass(frozen=True)
class BuildInfo:
    path: Path
    content_hash: str
    sections: int
    documents: int
    seconds: float
    rebuilt: bool
    skipped: tuple[Skipped, ...] = ()


# --- building -------------------------------------------------------------------------------


def _document(n: int, section: Section, cert: Certification, catalog: Catalog, marker: SentenceMarker) -> dict:
    blocks = [(b.text, b.kind) for b in section.blocks]
    own_names = (cert.name, *cert.titles, *cert.names)
    numbers = [
        StoredNumber(label=nl.label, number=nl.number, text=nl.text,
                     terms=frozenset(stem(t) for t in plain_tokens(f"{nl.label} {nl.context} {nl.text}")))
        for nl in section.numbers(catalog.vocabulary.generic_labels)
    ]
    names = " | ".join(dict.fromkeys([cert.name, *cert.titles, *cert.names, section.family]))
    # A file's name says what it is about, often whose it is ("spacelift-security.docx").
    topics = " | ".join([*cert.topics, *_file_words(section.source)])
    title = section.display_title
    ids = sorted(identifiers(f"{title}\n{section.text}"))
    # "Impact Level 5" is also il5, "Office 365" o365: identifiers no word spells are indexed
    # with the text, so a question typing them finds the section.
    text_tokens = plain_tokens(f"{title}\n{section.text}")
    written = set(text_tokens)
    derived = [i for i in ids if i not in written]
    body = " \n".join([section.text, *derived])
    title_ids = sorted(identifiers(title) - set(plain_tokens(title)))
    # data/certifications.yaml speaks for the whole certification, over what any one file says.
    valid_until, valid_from = ((cert.valid_until, CERTIFICATIONS_YAML) if cert.valid_until
                               else (section.valid_until, section.valid_until_from))
    review_by, review_from = ((cert.review_by, CERTIFICATIONS_YAML) if cert.review_by
                              else (section.review_by, section.review_by_from))
    # The text is tokenised once, above; names and topics are short.
    vocabulary = " ".join(dict.fromkeys([*text_tokens, *derived, *plain_tokens(f"{names}\n{topics}")]))
    return dict(
        id=f"{section.source}#{n}",
        cert=cert.key,
        title=" ".join([title, *title_ids]),
        names=names,
        topics=topics,
        body=body,
        # Neither field is scored: one holds each word once (how many sections have it; what a
        # section covers), so the analyzers run over a section's vocabulary, not its text again.
        all=vocabulary,
        words=vocabulary,
        visibility=section.visibility,
        data={
            "certification": cert.name,
            "title": title,
            "sentences": sentences_of(blocks, lambda text: marker.kinds(text, own_names)),
            "ids": ids,
            "title_ids": title_ids,
            "numbers": numbers,
            "last_updated": section.last_updated,
            # Freshness and the catalogue (index/freshness.py, index/listing.py).
            "valid_until": valid_until,
            "valid_until_from": valid_from,
            "review_by": review_by,
            "review_by_from": review_from,
            "scope": cert.scope,
            "source": section.source,
            "sources": list(section.sources),
            "source_url": section.source_url,
            "topics": topics,             # what the topics field holds, to see which words a hit matched
            "visibility": section.visibility,
        },
    )


# From this many sections on, two processes write the index (Whoosh's MpWriter, one segment
# each): writing is pure Python and half of a large build. Below it, starting them costs more
# than it saves, and a small build (the first `certdesk ask`) stays in one process.
PARALLEL_FROM = 5_000
WRITER_MB = 128   # Whoosh's posting buffer per writing process, in MB


def _writer_options(sections: int) -> dict:
    procs = min(2, os.cpu_count() or 1) if sections >= PARALLEL_FROM else 1
    return {"limitmb": WRITER_MB, "procs": procs, "multisegment": procs > 1, "codec": InMemoryLengthsCodec()}


def _company(sections: list[Section], certs: list[Certification], catalog: Catalog) -> tuple[str, ...]:
    """The names the documents show holding certifications: the company and its products."""
    holds = next((a.evidence for a in catalog.vocabulary.asks if a.name == HOLDS), ())
    inferred = company_names(sections, certs, holds)
    if inferred:
        log.info("company and products named in the documents: %s", ", ".join(inferred))
    return tuple(inferred)


def _lexicon(catalog: Catalog, certs: dict[str, Certification]) -> dict:
    """What the question side needs besides the index: names, products, vocabulary."""
    v = catalog.vocabulary
    return {
        "certifications": {
            key: {"name": c.name, "names": list(dict.fromkeys([c.name, *c.titles, *c.names]))}
            for key, c in certs.items()
        },
        "products": [{"name": p.name, "names": list(p.names)} for p in catalog.products],
        "vocabulary": {
            "stopwords": sorted(v.stopwords), "number_words": sorted(v.number_words),
            "all_words": sorted(v.all_words), "definition_words": sorted(v.definition_words),
            "synonyms": [list(g) for g in v.synonyms],
            "asks": raw_asks(v.asks), "history_words": sorted(v.history_words),
            "named_documents": [list(g) for g in v.named_documents],
        },
    }


def _file_words(source: str) -> list[str]:
    """The words of a file's name (not its folders or extension): "posthog-security-privacy.md"
    -> posthog, security, privacy. Names that are only numbers and hashes give none."""
    stem_name = Path(source).name.rsplit(".", 1)[0]
    return [w for w in re.split(r"[\W_]+", stem_name) if len(w) > 1 and w.isalpha()]


# An identifier made of an acronym and a number ("iso27001", "soc2", "il5"): its acronym.
_ID_PREFIX_RE = re.compile(r"^([a-z]{2,6})\d")


@contextlib.contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _swap(index_dir: Path, target: Path) -> None:
    """Point `current` at the new build with one atomic rename."""
    tmp = index_dir / f".current.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(os.path.relpath(target, index_dir), tmp)
    os.replace(tmp, index_dir / "current")


def _prune(index_dir: Path, keep: set[Path]) -> None:
    """Remove older builds; the newest two stay (the previous may still be being read)."""
    builds = index_dir / "builds"
    for path in sorted(builds.iterdir()) if builds.is_dir() else []:
        if path.resolve() not in keep:
            shutil.rmtree(path, ignore_errors=True)


def build_index(paths: Paths, *, force: bool = True, strict: bool = False) -> BuildInfo:
    """Build a new index and swap it in. With force=False, only when the sources changed.

    Files that cannot be read are skipped with a warning each; strict=True makes them a
    BuildError instead (for a docs repository's CI), and the previous index stays.
    """
    with _build_lock(paths.index_dir):
        seen = fingerprint(paths)   # before the hash: a file changed meanwhile shows as stale
        digest = content_hash(paths)
        previous = current_path(paths.index_dir)
        if not force and previous and read_manifest(previous).get("content_hash") == digest:
            m = read_manifest(previous)
            return BuildInfo(previous, digest, m.get("sections", 0), m.get("documents", 0), 0.0, False)
        started = time.perf_counter()
        catalog = load_catalog(paths.data_dir)
        documents = document_files(paths.seeds_dir)
        sections, skipped = load_sections(paths.seeds_dir, catalog)
        if strict and skipped:
            raise BuildError(f"{len(skipped)} file(s) could not be indexed: "
                             + "; ".join(f"{s.source}: {s.reason}" for s in skipped))
        if not sections:
            raise BuildError(f"no sections found in {paths.seeds_dir}: nothing to answer from")
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
        target = paths.index_dir / "builds" / stamp
        target.mkdir(parents=True)
        try:
            certs: dict[str, Certification] = {}
            of_section = [certification_of(section, catalog) for section in sections]
            for cert in of_section:
                certs.setdefault(cert.key, cert)
            certs = with_bare_numbers(certs)
            of_section = [certs[cert.key] for cert in of_section]
            marker = SentenceMarker(catalog.vocabulary.asks, catalog.vocabulary.company_names,
                                    _company(sections, list(certs.values()), catalog))
            ix = windex.create_in(str(target), make_schema())
            writer = ix.writer(**_writer_options(len(sections)))
            longest = 0   # the longest word: a longer typed word is no typo of any (search.py)
            prefixes: set[str] = set()   # "iso" of iso27001: typed "iso 22301" is an identifier too
            try:
                for n, (section, cert) in enumerate(zip(sections, of_section)):
                    document = _document(n, section, cert, catalog, marker)
                    longest = max(longest, max(map(len, document["words"].split()), default=0))
                    prefixes.update(_ID_PREFIX_RE.match(i)[1] for i in document["data"]["ids"]
                                    if _ID_PREFIX_RE.match(i))
                    writer.add_document(**document)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            ix.close()
            (target / "lexicon.json").write_text(
                json.dumps({**_lexicon(catalog, certs), "longest_word": longest,
                            "id_prefixes": sorted(prefixes)}, ensure_ascii=False, indent=1),
                encoding="utf-8")
            manifest = {"content_hash": digest, "fingerprint": seen, "format": FORMAT, "sections": len(sections),
                        "documents": len(documents) - len(skipped),
                        "skipped": [{"source": s.source, "reason": s.reason} for s in skipped],
                        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            # The manifest is written last: a directory without one is not a complete index.
            (target / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        _swap(paths.index_dir, target)
        _prune(paths.index_dir, {target.resolve()} | ({previous.resolve()} if previous else set()))
        seconds = time.perf_counter() - started
        log.info("built index of %d sections from %d documents in %.2fs", len(sections), len(documents), seconds)
        return BuildInfo(target, digest, len(sections), len(documents) - len(skipped), seconds, True,
                         tuple(skipped))
