"""Question -> ranked sections -> quoted passages and certificate numbers, or "not answered".

Ranking is Whoosh's BM25F over title, names, topics and body, with each question concept an
OR of its forms (exact > synonym > spelling correction). Whether to answer at all is decided
without a tuned per-question number:

  * the question names the section's certification (an alias from data/ or its heading), or
  * the section covers at least half of what the question asks, each concept weighted by
    how rare it is in the documents (a word the documents never use weighs the most, and an
    acronym-looking word counts extra). A corrected word earns only part of its weight, so an
    unknown acronym "corrected" into a known word does not make the bot answer.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from whoosh.query import DefaultOr, Term

from .answer import Answer, CertificateNumber, Result
from .config import Paths
from .errors import BuildError, DataError
from .store import current_path, ensure_index, open_index, read_manifest, unreadable, usable
from .analysis import CJK_RE, identifiers, plain_tokens, stem
from .asks import COMPANY, COUNT, HOLDS, NUMBER, hint
from .passages import StoredNumber, choose_passage, order_numbers, states_in
from .query import Concept, Lexicon, NamedDocument, Plan, osa_distance, plan_question

if TYPE_CHECKING:   # the catalogue (index/listing.py) is imported by the methods that list it
    from .listing import SectionRecord

log = logging.getLogger(__name__)
T = TypeVar("T")

FIELD_BOOSTS = {"title": 3.0, "names": 4.0, "topics": 1.5, "body": 1.0}
SYNONYM_CREDIT = 0.8
CORRECTION_CREDIT = 0.4     # below half: a lone corrected word never decides an answer
EMPHATIC_FACTOR = 1.5
DIGITS_FACTOR = 0.5
COVERAGE_NEEDED = 0.5
TOPICAL_FIELDS = frozenset({"title", "names", "topics"})
CANDIDATES = 40
# A typo keeps its first letter(s): candidates share them, so only the indexed words that
# start that way are compared (see Engine._words_like).
TYPO_PREFIX = 1
# A term in more sections than this is not retrieved by, only looked up in the candidates (see
# Engine._query); far above any evaluation corpus, so answers on those never change. When every
# term is that common, the sections about the rarest one retrieve.
COMMON_POSTINGS = 1000
# Sections whose stored fields (and the terms read from them) stay decoded between questions.
# Unpickling a section's stored data is most of a question's time on a small index; the cache
# belongs to one Engine, that is one build of the index, so a rebuild never serves stale data.
STORED_CACHE = 1024     # about 35 MB at the size of a seeds section
# How much of the question a section covers counts more than BM25's raw score: squared.
COVERAGE_POWER = 2
MAX_RESULTS = 3
FOLLOWER_SHARE = 0.35          # a second or third result must score this share of the first
NUMBER_MATCH_FACTOR = 1.5      # asked for a number: parts stating one (the matching one) rank first
FACT_FACTOR = 0.5              # asked for a kind of fact: a section stating it ranks first
MAX_NUMBER_LINES = 3           # number lines quoted in one passage (all of them are listed)


@dataclass(frozen=True)
class _Hit:
    fields: dict
    score: float


@dataclass(frozen=True)
class _Candidate:
    """A retrieved section: what the code below reads of a Whoosh hit (`hit["data"]`,
    `hit.fields()`, `hit.docnum`, `hit.score`), with its stored fields from the Engine's
    cache rather than unpickled again for every question. Shared between questions: read only."""

    docnum: int
    score: float
    stored: dict

    def __getitem__(self, name: str):
        return self.stored[name]

    def fields(self) -> dict:
        return self.stored


@dataclass(frozen=True)
class _Seen:
    """What of the question one candidate section holds (see Engine._what_matches)."""

    matched: set[str]
    topical: set[str]
    coverage: float        # share of the question's weight the section covers
    on_topic: float        # ... covers in what it is about (names, title, topics)
    named: bool            # the section's certification is named in the question
    mentions: bool         # the section states a name the question typed
    section_ids: set[str]
    doc_stated: bool       # the section states a document asked for by name
    ids_found: bool        # ... or an identifier the question typed


def _letters_apart(letters: set[str], candidate: str) -> int:
    """A lower bound of the edit distance between a word of these letters and `candidate`:
    each letter one of them has and the other lacks takes an edit of its own (a swap takes
    none). Computing it is a tenth of computing the distance, and it rules out most of the
    thousands of same-length words a large vocabulary offers as candidates."""
    other = set(candidate)
    return max(len(letters - other), len(other - letters))


class Engine:
    """An opened index. Thread-safe: each thread gets its own Whoosh searcher."""

    def __init__(self, path: Path):
        self.path = path.resolve()
        self._index = open_index(path)
        raw = json.loads((path / "lexicon.json").read_text(encoding="utf-8"))
        self.lexicon = Lexicon(raw)
        self._local = threading.local()
        self._longest: int | None = raw.get("longest_word")   # None: an index built before it was stored
        with self._index.searcher() as s:
            self._docs = max(1, s.doc_count())
        self._known = lru_cache(maxsize=50_000)(self._known_uncached)
        self._correct = lru_cache(maxsize=20_000)(self._correct_uncached)
        self._postings = lru_cache(maxsize=100_000)(self._postings_uncached)
        self._idf = lru_cache(maxsize=100_000)(self._idf_uncached)
        self._cert_ids: dict[str, set[str]] = {}
        self._cert_stems: dict[str, frozenset[str]] = {}
        self._cert_sections = lru_cache(maxsize=1024)(self._cert_sections_uncached)
        self._records: tuple[SectionRecord, ...] | None = None
        self._words_by_shape: dict[tuple[str, int], list[str]] | None = None
        self._stored = lru_cache(maxsize=STORED_CACHE)(self._stored_uncached)
        self._section_terms = lru_cache(maxsize=STORED_CACHE)(self._section_terms_uncached)

    @classmethod
    def open(cls, paths: Paths | None = None) -> "Engine":
        """Open the current index, building it first when missing or stale.

        When the rebuild fails (a typo in data/, an unreadable seed) and a complete previous
        index exists, that one keeps serving and the failure is logged; with no index at
        all the error is raised, since there is nothing to answer from.
        """
        paths = paths or Paths.from_env()
        try:
            return cls(ensure_index(paths))
        except (DataError, BuildError) as exc:
            previous = current_path(paths.index_dir)
            if previous is None or not usable(previous):
                raise
            log.warning("index not rebuilt: %s; answering from the previous index (%s)",
                        exc, read_manifest(previous).get("built_at", previous.name))
            return cls(previous)

    @classmethod
    def open_existing(cls, index_dir: Path) -> "Engine":
        path = current_path(index_dir)
        if path is None:
            raise FileNotFoundError(f"no index in {index_dir}")
        return cls(path)

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
        self._index.close()

    # --- per-thread searcher and vocabulary ------------------------------------------------

    @property
    def _searcher(self):
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self._local.searcher = self._index.searcher()
        return searcher

    def _known_uncached(self, word: str) -> bool:
        """In the documents as typed, or in another form ("assessed" when they say "assessing")."""
        searcher = self._searcher
        return searcher.doc_frequency("words", word) > 0 or searcher.doc_frequency("all", stem(word)) > 0

    def _correct_uncached(self, word: str) -> str | None:
        """The closest word of the documents, when one is close enough to be a typo."""
        if len(word) < 4 or not word.isalpha():
            return None
        limit = 1 if len(word) <= 7 else 2
        reader = self._searcher.reader()
        if len(word) > self._longest_word(reader) + limit:
            # No word of the documents is that close (a 5,000-letter paste is no typo).
            return None
        best: tuple[int, int, str] | None = None
        letters = set(word)
        for candidate in self._words_like(word, limit):
            if candidate == word or _letters_apart(letters, candidate) > limit:
                continue
            d = osa_distance(word, candidate, limit)
            if d > limit or (d > 1 and osa_distance(word, candidate, 2, swaps=False) > 2):
                # Two edits, one of them a swap, is three or four plain edits: candidates came
                # from Whoosh's automaton of two plain edits, and the corrections stay the same.
                continue
            key = (d, -reader.doc_frequency("words", candidate), candidate)
            if best is None or key < best:
                best = key
        return best[2] if best else None

    def _words_like(self, word: str, limit: int) -> list[str]:
        """The indexed words a typo of `word` can be: the same first TYPO_PREFIX letters, and
        at most `limit` letters longer or shorter.

        Read from the vocabulary once, on the first typo check, grouped by those letters and
        length: Whoosh's edit-distance automaton cost 5-9 ms per unknown word even on the
        seeds' 1,400 words (it is built in Python for every word). The index under one Engine
        never changes; two threads racing here build the same groups."""
        groups = self._words_by_shape
        if groups is None:
            groups = {}
            for term in self._searcher.reader().lexicon("words"):
                text = term.decode() if isinstance(term, bytes) else term
                groups.setdefault((text[:TYPO_PREFIX], len(text)), []).append(text)
            self._words_by_shape = groups
        prefix = word[:TYPO_PREFIX]
        return [w for size in range(len(word) - limit, len(word) + limit + 1)
                for w in groups.get((prefix, size), ())]

    def _longest_word(self, reader) -> int:
        """Length of the longest indexed word: read once, on the first typo check (the index
        under one Engine never changes; two threads racing here compute the same number)."""
        longest = self._longest
        if longest is None:
            longest = self._longest = max(
                (len(term) for term in reader.lexicon("words")), default=0)
        return longest

    def _stored_uncached(self, docnum: int) -> dict:
        """A section's stored fields (the index under one Engine never changes)."""
        return self._searcher.stored_fields(docnum)

    def _postings_uncached(self, term: str) -> int:
        """How many sections hold the term (in any field): what retrieving it costs."""
        return self._searcher.doc_frequency("all", term)

    def _idf_uncached(self, term: str) -> float:
        df = self._postings(term)
        return math.log(1 + (self._docs - df + 0.5) / (df + 0.5))

    def catalog(self, *, audience: str = "internal") -> list[tuple[str, str | None]]:
        """Every certification the index can answer about, with its newest "last updated"."""
        from .listing import certifications

        return [(e.name, e.last_updated) for e in certifications(self.sections(audience=audience))]

    def sections(self, *, audience: str = "internal") -> tuple[SectionRecord, ...]:
        """Every section's certification, dates, numbers and source that this audience may
        see: the catalogue and `certdesk report stale` (index/listing.py). Read from the
        stored fields on first use only: the index under one Engine never changes (two
        threads racing here read the same records)."""
        from .listing import SectionRecord, visible

        records = self._records
        if records is None:
            records = self._records = tuple(
                SectionRecord.from_stored(fields["data"]) for fields in self._searcher.all_stored_fields())
        return visible(records, audience)

    # --- answering -------------------------------------------------------------------------

    def plan(self, question: str) -> Plan:
        return plan_question(question, self.lexicon, self._known, self._correct)

    def _weight(self, c: Concept) -> float:
        if all(CJK_RE.match(t) and not self._known(t) for t in c.stems):
            # Chinese is cut into character pairs; a pair no document or name contains is an
            # artefact of that cut ("问合" in "问合规"), not an unknown word, unless data/
            # gives it a meaning (指标 -> indicators): then it weighs what its synonyms do.
            known = [t for t in c.synonyms if self._known(t)]
            return max((self._idf(t) for t in known), default=0.0)
        w = max(self._idf(t) for t in c.stems)
        if c.emphatic:
            w *= EMPHATIC_FACTOR
        if all(t.isdigit() for t in c.stems):
            w *= DIGITS_FACTOR
        return w

    def _query(self, plan: Plan) -> tuple[DefaultOr, list[tuple[str, str]]]:
        """The retrieval query, and the (field, term) pairs left out of it as too common.

        Whoosh scores a disjunction by walking every posting of every term: a word in most
        sections ("cloud") costs more than all the rest of the question and tells almost
        nothing about which section answers. Such terms are looked up only in the candidates
        the rarer terms found (`_matched`), where they still count for coverage; a question
        made of common terms only is retrieved by the sections about its rarest one.
        """
        terms: list[Term] = []
        for c in plan.concepts:
            for forms, factor in ((c.stems, 1.0), (c.synonyms, SYNONYM_CREDIT * 0.6),
                                  (c.corrected, CORRECTION_CREDIT * 0.5)):
                for t in forms:
                    terms += [Term(f, t, boost=b * factor) for f, b in FIELD_BOOSTS.items()]
        for t in plan.name_stems:
            terms += [Term(f, t, boost=b) for f, b in FIELD_BOOSTS.items() if f != "topics"]
        postings = {t.text: self._postings(t.text) for t in terms}
        rare = [t for t in terms if postings[t.text] <= COMMON_POSTINGS]
        if not rare and terms:
            # Nothing but common words ("cloud certification?"): the sections that are about
            # the rarest of them (title, names) are the candidates, not every section using it.
            rarest = min(postings, key=postings.get)
            rare = [t for t in terms if t.text == rarest and t.fieldname in ("title", "names")]
        kept = {id(t) for t in rare}
        common = list(dict.fromkeys((t.fieldname, t.text) for t in terms if id(t) not in kept))
        # A binary tree of unions, which can skip blocks that cannot reach the top candidates
        # (Whoosh's default preloads every posting into an array on segments under 5,000 docs).
        return DefaultOr(rare), common

    def _matched(self, pairs: list[tuple[str, str]], hits) -> dict[int, set[tuple[str, str]]]:
        """Which of the query's (field, term) pairs each candidate holds, read from what is
        stored with it (its sentences' terms, title, topics, its certification's names).

        Asking Whoosh to record matched terms would make it score every posting: it cannot
        skip blocks that cannot reach the top 40 (and walking postings of common words is
        what made the slow tail)."""
        found: dict[int, set[tuple[str, str]]] = {}
        for hit in hits:
            fields = self._fields_of(hit)
            found[hit.docnum] = {(f, t) for f, t in pairs if t in fields.get(f, ())}
        return found

    def _fields_of(self, hit) -> dict[str, set[str] | frozenset[str]]:
        return self._section_terms(hit.docnum)

    def _section_terms_uncached(self, docnum: int) -> dict[str, set[str] | frozenset[str]]:
        """A section's terms per field, read from its stored data (cached: read only)."""
        hit = self._stored(docnum)
        data = hit["data"]
        fields: dict[str, set[str] | frozenset[str]] = {
            "body": set().union(*(s.terms for s in data["sentences"])) | set(data["ids"]),
            "title": {stem(t) for t in plain_tokens(data["title"])} | set(data.get("title_ids", ())),
            "names": self._name_stems(hit["cert"]),
            "topics": {stem(t) for t in plain_tokens(data.get("topics", ""))},
        }
        fields["all"] = set().union(*fields.values())
        return fields

    def _name_stems(self, cert_key: str) -> frozenset[str]:
        stems = self._cert_stems.get(cert_key)
        if stems is None:
            stems = self._cert_stems[cert_key] = frozenset().union(*self.lexicon.alias_stems(cert_key))
        return stems

    @staticmethod
    def _credit(c: Concept, matched: set[str]) -> float:
        if c.stems & matched:
            return 1.0
        if c.synonyms & matched:
            return 1.0 if c.product else SYNONYM_CREDIT
        if c.corrected & matched:
            return CORRECTION_CREDIT
        return 0.0

    def _evidence(self, concepts: list[Concept], matched: set[str], topical: set[str],
                  ids_found: bool) -> bool:
        """Two concepts found, one found in what the section is about (not just its text), or
        an identifier the question typed ("GDPR", "SOC1") that the section states.

        A single word that a section happens to use ("title" in "Title 21 of the Code of
        Federal Regulations") is not evidence that the section answers anything.
        """
        found = [c for c in concepts if self._credit(c, matched) > 0]
        return ids_found or len(found) >= 2 or any(self._credit(c, topical) > 0 for c in found)

    def _required_ids(self, plan: Plan) -> set[str]:
        """Identifiers a section must state to answer a question that names no certification:
        codes and numbered standards ("soc2", "iso22301"), and acronyms the documents never
        use. "ISO 22301" is not answered from a section that lists ISO 27001."""
        return {i for i in plan.ids
                if (any(c.isdigit() for c in i) and not i.isdigit())
                or not (self._known(i) or stem(i) in self.lexicon.synonyms)}

    def ask(self, question: str, *, audience: str = "internal") -> Answer:
        """Answer one question. audience="public" leaves internal documents out."""
        plan = self.plan(question)
        original = " ".join(question.split())
        if not plan.concepts and not plan.named:
            return Answer(question=original, answered=False, corrections=tuple(plan.corrections))
        weights = {id(c): self._weight(c) for c in plan.concepts}
        total = sum(weights.values())
        term_weights = self._term_weights(plan, weights)
        required = self._required_ids(plan)
        asked_kinds = [k for k in plan.asks if k not in (HOLDS, NUMBER, COUNT)]
        if not asked_kinds and HOLDS in plan.asks and not (plan.number_intent or plan.documents):
            # "Do we have X?" asks one fact: that the company holds it. The section saying so
            # answers before the one defining X. ("Do we have the SOC 2 report?" asks for the
            # document: the section stating it answers, held or not.)
            asked_kinds = [HOLDS]
        flt = Term("visibility", "public") if audience == "public" else None
        searcher = self._searcher
        query, common = self._query(plan)
        found = [_Candidate(docnum, score, self._stored(docnum))
                 for docnum, score in searcher.search(query, limit=CANDIDATES, filter=flt).items()]
        pairs = list(dict.fromkeys([(t.fieldname, t.text) for t in query.subqueries] + common))
        matched = self._matched(pairs, found)
        typed = plan.ids | {t for c in plan.concepts for t in c.stems}
        candidates = []
        for hit in found:
            stated = self._stated_share(hit["data"]["sentences"], plan, asked_kinds)
            seen = self._what_matches(hit, plan, weights, total, typed, stated, matched[hit.docnum])
            if self._may_answer(seen, plan, required):
                candidates.append((hit, seen, stated))
        beyond = self._beyond_named(plan, weights, [seen for _, seen, _ in candidates])
        hits = [_Hit(hit.fields(), self._rank(hit, seen, plan, term_weights, stated, beyond(seen)))
                for hit, seen, stated in candidates]
        hits.sort(key=lambda h: h.score, reverse=True)
        _newer_first(hits)
        if not hits:
            return Answer(question=original, answered=False, corrections=tuple(plan.corrections))
        top = hits[0].score
        chosen = [h for h in hits if h.score >= FOLLOWER_SHARE * top][:MAX_RESULTS]
        results = tuple(self._result(h, plan, term_weights) for h in chosen)
        return Answer(question=original, answered=True, results=results, corrections=tuple(plan.corrections),
                      not_stated=self._not_stated(plan, chosen[0].fields["cert"], audience, found))

    def _what_matches(self, hit, plan: Plan, weights: dict[int, float], total: float,
                      typed: set[str], stated: float | None, pairs: set[tuple[str, str]]) -> "_Seen":
        """What of the question one candidate section holds.

        A word that says which kind of fact is asked ("audited", "level") is found where the
        section states that kind of fact, and never in what a section is about: "Audit
        reports" as a heading does not answer "who audited us"."""
        section_ids = set(hit["data"]["ids"])
        # "IL5" typed, "Impact Level 5" written: the identifier matches though no word does.
        matched = {t for _, t in pairs} | {stem(i) for i in plan.ids & section_ids}
        topical = {t for f, t in pairs if f in TOPICAL_FIELDS}
        covered = sum(weights[id(c)] * (max(self._credit(c, matched), stated or 0.0) if c.cue
                                        else self._credit(c, matched)) for c in plan.concepts)
        on_topic = sum(weights[id(c)] * self._credit(c, topical) for c in plan.concepts if not c.cue)
        # A document asked for by name ("Business Associate Agreement") that the section states.
        doc_stated = any(d.stated_in(matched, section_ids) for d in plan.documents)
        return _Seen(
            matched=matched, topical=topical,
            coverage=covered / total if total else 0.0,
            on_topic=on_topic / total if total else 0.0,
            named=hit["cert"] in plan.named,
            # Another document that states the name typed ("PCI" on a product's page).
            # ("SOC 2" typed, "SOC2 Type II" written: the same identifier.)
            mentions=any(phrase <= matched for phrase in plan.name_phrases) or bool(plan.name_ids & section_ids),
            section_ids=section_ids,
            doc_stated=doc_stated,
            # An identifier typed that the section states is evidence it answers ("hitrust?"
            # typed in lower case is the HITRUST the section writes), as is a named document.
            ids_found=bool(typed & section_ids - self._name_ids(hit["cert"])) or doc_stated,
        )

    def _beyond_named(self, plan: Plan, weights: dict[int, float],
                      seen: list["_Seen"]) -> Callable[["_Seen"], bool]:
        """Which sections that state a certification's name rank as if they were its own.

        "Is KMS FedRAMP High?": no FedRAMP section says anything about KMS, the question's
        main subject (its heaviest word); KMS's own page states FedRAMP and covers it. Such
        a page, covering more of the question than any of the certification's sections,
        answers like one of them."""
        subjects = [c for c in plan.concepts if not c.cue]
        if not plan.named or not subjects:
            return lambda s: False
        subject = max(subjects, key=lambda c: weights[id(c)])
        named = [s for s in seen if s.named]
        if any(self._credit(subject, s.matched) for s in named):
            return lambda s: False
        best = max((s.coverage for s in named), default=0.0)
        return lambda s: s.mentions and s.coverage > best and bool(self._credit(subject, s.matched))

    def _may_answer(self, seen: "_Seen", plan: Plan, required: set[str]) -> bool:
        """A question that names a certification is answered by its sections, or by another
        section that mentions that name or states the document asked for; otherwise by a
        section that covers enough of it, with evidence, and states every identifier typed."""
        if seen.named:
            return True
        if not required <= seen.section_ids:
            return False
        if plan.named:
            return seen.mentions or seen.doc_stated
        return seen.doc_stated or (seen.coverage >= COVERAGE_NEEDED and self._evidence(
            plan.concepts, seen.matched, seen.topical, seen.ids_found))

    def _stated_share(self, sentences: list, plan: Plan, asked_kinds: list[str]) -> float | None:
        """How much of the kinds of fact asked the section states (a hint counts half);
        None when no kind is asked."""
        if not asked_kinds:
            return None
        about_us = self.lexicon.cues.about_us
        if asked_kinds == [HOLDS]:
            # What the company holds is said in a sentence naming it; "certified CSPs can
            # specify their level" in a definition says what anyone may hold.
            return max((1.0 if COMPANY in s.kinds else 0.5 for s in sentences if HOLDS in s.kinds),
                       default=0.0)
        return sum(1.0 if states_in(sentences, k, about_us, plan.history)
                   else 0.5 if any(hint(k) in s.kinds for s in sentences) else 0.0
                   for k in asked_kinds) / len(asked_kinds)

    def _rank(self, hit, seen: "_Seen", plan: Plan, term_weights: dict[str, float],
              stated: float | None, beyond_named: bool = False) -> float:
        """BM25 weighed by how much of the question the section covers and is about."""
        data = hit["data"]
        # A certification made for what is asked (its names, title, topics) ranks first.
        score = hit.score * (0.5 + seen.coverage) ** COVERAGE_POWER * (1 + seen.on_topic)
        # Named, and covering the rest of the question too, ranks first; a section that only
        # carries the name does not outrank one that answers the rest.
        score *= 1 + seen.coverage if seen.named or beyond_named else 1.0
        if plan.number_intent or plan.product_terms:
            _, specific = order_numbers(data["numbers"], term_weights, plan.product_terms)
            # Asked for a number: the part stating the matching one, or any, before the rest.
            score *= NUMBER_MATCH_FACTOR if specific or (plan.number_intent and data["numbers"]) else 1.0
        if stated is not None:
            score *= 1 + FACT_FACTOR * stated
        return score

    def _sections_of(self, cert_key: str, audience: str) -> list[dict]:
        """Every section of a certification this audience may see.

        "The documents do not state X for C" must hold for all of C's sections, not only the
        ones the question's words happened to retrieve. Read by the `cert` field, so a large
        index never loads every section's stored data."""
        data = self._cert_sections(cert_key)
        return [d for d in data if audience != "public" or d["visibility"] == "public"]

    def _cert_sections_uncached(self, cert_key: str) -> list[dict]:
        searcher = self._searcher
        return [searcher.stored_fields(n)["data"] for n in sorted(searcher.document_numbers(cert=cert_key))]

    def _name_ids(self, cert_key: str) -> set[str]:
        """Identifiers in a certification's own names: naming it is not finding a fact in it."""
        ids = self._cert_ids.get(cert_key)
        if ids is None:
            ids = self._cert_ids[cert_key] = {
                i for p in self.lexicon.names_of(cert_key) for i in identifiers(p.display)}
        return ids

    def _not_stated(self, plan: Plan, cert_key: str, audience: str,
                    retrieved: list[_Candidate]) -> tuple[str, ...]:
        """What the question asks that no section of the certification states.

        The certification's sections among those retrieved are looked at first; all of them
        are read only for what those do not state (and only when a kind of fact or a document
        is asked): reading a certification of thousands of sections costs 100 ms and more."""
        about_us = self.lexicon.cues.about_us
        kinds = [k for k in plan.asks
                 if self.lexicon.cues.labels.get(k) and not (plan.history and k in about_us)]
        documents = list(plan.documents)
        if not kinds and not documents:
            return ()
        seen = [hit["data"] for hit in retrieved if hit["cert"] == cert_key
                and (audience != "public" or hit["data"]["visibility"] == "public")]
        kinds, documents = self._unstated(plan, kinds, documents, seen)
        if kinds or documents:
            kinds, documents = self._unstated(plan, kinds, documents, self._sections_of(cert_key, audience))
        missing = [self.lexicon.cues.labels[k] for k in kinds] + [d.display for d in documents]
        return tuple(dict.fromkeys(missing))

    def _unstated(self, plan: Plan, kinds: list[str], documents: list[NamedDocument],
                  data: list[dict]) -> tuple[list[str], list[NamedDocument]]:
        """The kinds of fact and the documents asked that none of these sections states."""
        sections = [d["sentences"] for d in data]
        missing: list[str] = []
        for kind in kinds:
            if kind == NUMBER:
                stated = any(d["numbers"] for d in data)
            else:
                stated = any(states_in(section, kind, self.lexicon.cues.about_us, plan.history)
                             for section in sections)
            if not stated:
                missing.append(kind)
        if documents:
            terms = self._terms_stated(sections, {stem(t) for d in documents for a in d.aliases for t in a})
            ids = set().union(*(d["ids"] for d in data)) if data else set()
            documents = [d for d in documents if not d.stated_in(terms, ids)]
        return missing, documents

    @staticmethod
    def _terms_stated(sections: list[list], wanted: set[str]) -> set[str]:
        """Which of the `wanted` terms some sentence of these sections holds: what
        NamedDocument.stated_in asks of them, without the union of every sentence's terms."""
        found: set[str] = set()
        for sentences in sections:
            for s in sentences:
                found |= wanted & s.terms
                if len(found) == len(wanted):
                    return found
        return found

    @staticmethod
    def _term_weights(plan: Plan, weights: dict[int, float]) -> dict[str, float]:
        """Each searched term with the weight of its concept times its credit."""
        term_weights: dict[str, float] = {}
        for c in plan.concepts:
            w = weights[id(c)]
            for forms, credit in ((c.corrected, CORRECTION_CREDIT),
                                  (c.synonyms, 1.0 if c.product else SYNONYM_CREDIT), (c.stems, 1.0)):
                for t in forms:
                    term_weights[t] = max(term_weights.get(t, 0.0), w * credit)
        return term_weights

    @staticmethod
    def _number_lines(numbers: list[StoredNumber], specific: bool, plan: Plan) -> tuple[str, ...]:
        """The number lines the passage quotes: the best match, and the one of each product
        asked ("cert #s for block storage and cloud delivery"); asked for them all, the first
        few; otherwise a lone number."""
        if plan.all_intent and len(numbers) > 1:
            return tuple(n.text for n in numbers[:MAX_NUMBER_LINES])
        if not specific:
            return (numbers[0].text,) if len(numbers) == 1 else ()
        lines = [numbers[0].text]
        for product in plan.product_terms:
            line = next((n.text for n in numbers if product and product <= n.terms), None)
            if line and line not in lines:
                lines.append(line)
        return tuple(lines[:MAX_NUMBER_LINES])

    def _result(self, hit: _Hit, plan: Plan, term_weights: dict[str, float]) -> Result:
        data = hit.fields["data"]
        numbers, specific = order_numbers(data["numbers"], term_weights, plan.product_terms)
        show_numbers = bool(numbers) and (plan.number_intent or plan.all_intent or specific)
        asks = list(plan.asks)
        if plan.documents:
            # A document asked for by name ("audit report", "BAA"): quote where this section
            # mentions it; where it does not, its words ("business associate") would only pull
            # in a coincidental sentence, so say what the company does hold instead.
            terms = set().union(*(s.terms for s in data["sentences"]))
            stated = [d for d in plan.documents if d.stated_in(terms, set(data["ids"]))]
            top_weight = max(term_weights.values(), default=1.0)
            term_weights = dict(term_weights)
            for d in plan.documents:
                for t in {stem(t) for alias in d.aliases for t in alias}:
                    term_weights[t] = top_weight if d in stated else 0.0
            if not stated and HOLDS not in asks:
                asks.append(HOLDS)
        passage = choose_passage(
            data["sentences"], term_weights, name_sets=self.lexicon.alias_stems(hit.fields["cert"]),
            asks=asks, about_us=self.lexicon.cues.about_us, history=plan.history,
            want_definition=plan.definition_intent,
            number_lines=self._number_lines(numbers, specific, plan) if show_numbers else ())
        return Result(
            certification=data["certification"],
            title=data["title"],
            passage=passage,
            certificate_numbers=tuple(CertificateNumber(n.label, n.number) for n in numbers)
            if show_numbers else (),
            last_updated=data["last_updated"],
            source=data["source"],
            score=hit.score,
            sources=tuple(data["sources"]),
            visibility=data["visibility"],
            valid_until=data.get("valid_until"),
            review_by=data.get("review_by"),
        )



# Two sections of one certification scoring within this share of each other say the same;
# the newer one (by its "last updated" date; undated counts as oldest) is quoted first.
SAME_SCORE_SHARE = 0.95


def _newer_first(hits: list[_Hit]) -> None:
    """A superseded page (the 2018 certificate beside this year's) must not win on a word."""
    def date(h: _Hit) -> str:
        return h.fields["data"]["last_updated"] or ""

    for i in range(len(hits) - 1):
        a, b = hits[i], hits[i + 1]
        if (a.fields["cert"] == b.fields["cert"] and b.score >= SAME_SCORE_SHARE * a.score
                and date(b) > date(a)):
            hits[i], hits[i + 1] = b, a


class IndexRebuilding(Exception):
    """The index being served was lost (deleted or damaged) and is being rebuilt: ask again in
    a few seconds. Its own type, so a server can say so instead of "something went wrong"."""


class LiveEngine:
    """An Engine that follows rebuilds while serving, and recovers an index lost while serving.

    `certdesk index build` (or a release step) swaps `current` to a new, complete build in one
    rename. At most once a second, the next question looks at `current`; when it points at a
    new build, a new Engine is opened on it and becomes the one new questions use. Questions
    already running keep the Engine they started with, so none ever sees a half-built index,
    and the previous build stays on disk for them (build.py keeps one generation).

    When a question fails because the index it reads can no longer be read (the directory was
    deleted, or its files replaced), the Engine is replaced without a restart: by the build
    `current` points at if that one is complete and readable, else by one rebuild from seeds/
    in a background thread (never two at once). Until that is done, questions that fail raise
    IndexRebuilding. A question failing on a readable index is not the index's fault: its
    error is raised as is and nothing is rebuilt.
    """

    CHECK_EVERY = 1.0

    def __init__(self, paths: Paths, engine: Engine):
        self.paths = paths
        self._engine = engine
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None

    @classmethod
    def open(cls, paths: Paths | None = None) -> "LiveEngine":
        paths = paths or Paths.from_env()
        return cls(paths, Engine.open(paths))

    @property
    def engine(self) -> Engine:
        """The Engine on the newest complete build (checked at most every CHECK_EVERY s)."""
        now = time.monotonic()
        if now - self._checked < self.CHECK_EVERY:
            return self._engine
        with self._lock:
            # While rebuilding, the rebuild swaps the Engine in itself (and says so once).
            if now - self._checked >= self.CHECK_EVERY and self._rebuilding is None:
                self._checked = now
                path = current_path(self.paths.index_dir)
                if path is not None and path != self._engine.path:
                    try:
                        self._engine = Engine(path)
                        log.info("now answering from %s", path)
                    except Exception:
                        log.exception("could not open the new index at %s; still answering from %s",
                                      path, self._engine.path)
        return self._engine

    def ask(self, question: str, *, audience: str = "internal") -> Answer:
        return self._call(lambda engine: engine.ask(question, audience=audience))

    def catalog(self, *, audience: str = "internal") -> list[tuple[str, str | None]]:
        return self._call(lambda engine: engine.catalog(audience=audience))

    def sections(self, *, audience: str = "internal") -> tuple[SectionRecord, ...]:
        return self._call(lambda engine: engine.sections(audience=audience))

    def _call(self, call: Callable[[Engine], T]) -> T:
        """`call` on the current Engine; if its index was lost, once more on its replacement."""
        engine = self.engine
        try:
            return call(engine)
        except Exception:
            retry = self._recover(engine)
            if retry is None:
                raise
        return call(retry)

    def _recover(self, failed: Engine) -> Engine | None:
        """After `failed` could not answer: the Engine to ask again, or None when its index is
        readable (the failure is the question's own). Raises IndexRebuilding when the index
        was lost and a rebuild is (now) under way."""
        with self._lock:
            if self._rebuilding is not None:
                raise IndexRebuilding("the index is being rebuilt")
            if self._engine is not failed:          # replaced meanwhile: ask that one
                return self._engine
            reason = unreadable(failed.path)
            if reason is None:
                return None
            path = current_path(self.paths.index_dir)
            if path is not None and path != failed.path and unreadable(path) is None:
                self._engine = Engine(path)
                log.info("the index at %s can no longer be read (%s); now answering from %s",
                         failed.path, reason, path)
                return self._engine
            log.warning("the index at %s can no longer be read (%s); rebuilding it from %s in the "
                        "background", failed.path, reason, self.paths.seeds_dir)
            self._rebuilding = threading.Thread(target=self._rebuild, name="certdesk-index-rebuild")
            self._rebuilding.start()
        raise IndexRebuilding("the index is being rebuilt")

    def _rebuild(self) -> None:
        """The background half of `_recover`: build (or find) a complete index and answer from
        it. A failure is logged and the next failing question tries again."""
        try:
            engine = Engine(ensure_index(self.paths))
        except Exception:
            log.exception("rebuilding the lost index failed; the next question tries again")
            with self._lock:
                self._rebuilding = None
            return
        with self._lock:
            self._engine, self._checked, self._rebuilding = engine, time.monotonic(), None
        log.info("index rebuilt; answering from %s again", engine.path)

    def close(self) -> None:
        """Close the current Engine, after waiting for a rebuild under way (it would open one)."""
        rebuilding = self._rebuilding
        if rebuilding is not None:
            rebuilding.join()
        self._engine.close()
