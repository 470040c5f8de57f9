"""Sentences in, quoted passage out; number lines in, the numbers that answer first.

Sentences are cut once at build time and stored with their terms, so answering a question
only intersects sets. A passage is one or two whole sentences copied from the section text,
so it is always verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .analysis import plain_tokens, stem

# A sentence ends at . ! ? (or their CJK forms) followed by space and a capital, digit,
# quote or bracket; not after a common abbreviation.
_END_RE = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[A-Z0-9])|(?<=[。！？])")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "inc", "no", "co", "ltd", "mr", "ms", "dr", "st", "vs", "u.s",
                  "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
                  "corp", "dept", "fig", "approx", "art", "sec", "para"}
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
# A date as prose states one: "August 31, 2020", "1 June 2017", "in March 2017", "2024-06-24",
# "since 2020". Not a bare year inside a name such as "C5:2020".
DATE_RE = re.compile(
    rf"\b{_MONTH}\b|\b\d{{4}}-\d\d-\d\d\b|\b(?:in|since|on|from|until)\s+(?:19|20)\d\d\b")


@dataclass(frozen=True)
class Sentence:
    text: str
    block: int            # index of the paragraph it came from
    kind: str             # text | heading | number
    terms: frozenset[str]  # stemmed terms
    has_date: bool


def split_sentences(text: str) -> list[str]:
    """Cut a paragraph into sentences without ever changing a character of them."""
    pieces: list[str] = []
    start = 0
    for m in _END_RE.finditer(text):
        candidate = text[start:m.start()].strip()
        last_word = candidate.rsplit(None, 1)[-1].strip(".([\"'“‘").lower() if candidate else ""
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        if candidate:
            pieces.append(candidate)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


def sentences_of(blocks: Iterable[tuple[str, str]]) -> list[Sentence]:
    """All sentences of a section's (text, kind) blocks, in order."""
    out: list[Sentence] = []
    for i, (text, kind) in enumerate(blocks):
        if kind == "text":
            parts = split_sentences(text)
        else:
            parts = [line.strip() for line in text.split("\n") if line.strip()]
        for part in parts:
            out.append(Sentence(part, i, kind, frozenset(stem(t) for t in plain_tokens(part)),
                                bool(DATE_RE.search(part))))
    return out


def choose_passage(sentences: list[Sentence], weights: Mapping[str, float], *,
                   name_sets: Iterable[frozenset[str]] = (), want_date: bool = False,
                   want_definition: bool = False,
                   number_line: str | None = None) -> str:
    """The one or two sentences that answer best, in source order.

    `weights` maps a question term to how much it says (rarer = more); a sentence that names
    the certification (all words of one of `name_sets`) counts extra. Headings are titles,
    not answers, so they count for less. When a certificate number answers the question, its
    line (`number_line`) is always quoted. Non-adjacent sentences are joined with " … " so the
    reader sees text was left out.
    """
    if not sentences:
        return ""
    name_sets = [n for n in name_sets if n]
    # Naming the certification breaks ties between sentences; it never outweighs a word asked.
    name_bonus = 0.5 * max(weights.values()) if weights else 1.0

    def score(s: Sentence) -> float:
        value = sum(w for t, w in weights.items() if t in s.terms)
        longest = max((len(n) for n in name_sets if n <= s.terms), default=0)
        if longest:
            # Asked what a name means: the longer the name found, the more the sentence
            # defines it ("Cloud Computing Compliance Criteria Catalogue (C5)" beats "C5").
            value += name_bonus * (1 + (longest - 1 if want_definition else 0))
        if want_date and s.has_date:
            value += 1.0 + 0.5 * max(weights.values(), default=1.0)
        if number_line is not None and s.text == number_line:
            value += 1000.0
        elif s.kind in ("number", "heading"):
            value *= 0.5
        return value

    scored = [(score(s), -i, i) for i, s in enumerate(sentences)]
    best_score, _, best = max(scored)
    if best_score <= 0:
        first = next((i for i, s in enumerate(sentences) if s.kind == "text"), 0)
        return sentences[first].text
    chosen = {best}
    runner = max((x for x in scored if x[2] != best), default=None)
    ceiling = best_score - 1000.0 if best_score >= 1000.0 else best_score
    if runner and runner[0] > 0 and runner[0] >= 0.6 * ceiling:
        chosen.add(runner[2])
    ordered = sorted(chosen)
    text = sentences[ordered[0]].text
    for prev, cur in zip(ordered, ordered[1:]):
        adjacent = cur == prev + 1 and sentences[cur].block == sentences[prev].block
        text += (" " if adjacent else " … ") + sentences[cur].text
    return text


@dataclass(frozen=True)
class StoredNumber:
    label: str
    number: str
    text: str                 # the line as the document states it
    terms: frozenset[str]     # stemmed words of label and heading: what it certifies


def order_numbers(numbers: list[StoredNumber], weights: Mapping[str, float],
                  product_terms: list[frozenset[str]]) -> tuple[list[StoredNumber], bool]:
    """Numbers whose label matches the question first (best first), then the rest in order.

    Returns the list and whether any number matched the question specifically. A product
    named in the question ("COS") matches a line when all words of one of its names
    ("cloud object storage") are in the line's label.
    """
    def score(n: StoredNumber) -> float:
        value = sum(w for t, w in weights.items() if t in n.terms)
        if any(p and p <= n.terms for p in product_terms):
            value += 1.0 + max(weights.values(), default=1.0)
        return value

    scored = [(score(n), -i, n) for i, n in enumerate(numbers)]
    matched = [x for x in scored if x[0] > 0]
    matched.sort(key=lambda x: (x[0], x[1]), reverse=True)
    rest = [x[2] for x in scored if x[0] <= 0]
    return [x[2] for x in matched] + rest, bool(matched)
