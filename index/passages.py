"""Sentences in, quoted passage out; number lines in, the numbers that answer first.

Sentences are cut once at build time and stored with their terms, so answering a question
only intersects sets. A passage is one or two whole sentences copied from the section text,
so it is always verbatim.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from .analysis import identifiers, plain_tokens, stem
from .asks import COMPANY, HOLDS, NUMBER, hint

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


# When a passage takes one more sentence (at most three in all). A reader would rather hear
# one sentence too many than miss the fact asked; measured on the evaluation sets.
RUNNER_SHARE = 0.4        # the next best sentence scores this share of the best
FACT_RUNNER_SHARE = 0.5   # ... of the sentence chosen for the kind of fact asked
UNCOVERED_SHARE = 0.25    # a sentence adds question words the passage lacks, this share of the top weight


@dataclass(frozen=True)
class Sentence:
    text: str
    block: int            # index of the paragraph it came from
    kind: str             # text | heading | number
    terms: frozenset[str]  # stemmed terms
    has_date: bool
    kinds: frozenset[str] = frozenset()   # kinds of fact it states (index/asks.py)
    header: int = -1                       # a table row: the index of its table's header row
    items: int = 0                         # ends in ":" and the next `items` sentences are its list


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


def _terms(text: str) -> frozenset[str]:
    """A sentence's stemmed words, and the identifiers its numbers make ("Impact Level 5" is
    also il5): a question typing those finds the sentence that spells them out."""
    terms = frozenset(stem(t) for t in plain_tokens(text))
    return terms | identifiers(text) if any(c.isdigit() for c in text) else terms


def sentences_of(blocks: Iterable[tuple[str, str]],
                 mark: Callable[[str], frozenset[str]] = lambda text: frozenset()) -> list[Sentence]:
    """All sentences of a section's (text, kind) blocks, in order; `mark` says what each states.

    A table row is one unit: a question about one service finds that service's row.
    """
    out: list[Sentence] = []
    header = -1
    for i, (text, kind) in enumerate(blocks):
        if kind == "text":
            parts = split_sentences(text)
        elif kind in ("row", "header"):
            parts = [text]
        else:
            parts = [line.strip() for line in text.split("\n") if line.strip()]
        if kind == "header":
            header = len(out)
        elif kind != "row":
            header = -1
        for part in parts:
            out.append(Sentence(part, i, kind, _terms(part),
                                bool(DATE_RE.search(part)), mark(part), header if kind == "row" else -1))
    per_block = Counter(s.block for s in out)
    return [_with_list(out, n, mark, per_block) for n in range(len(out))]


# "... provisioned in the following regions:" says nothing without the list after it.
MAX_LIST_ITEMS = 12
MAX_ITEM_LENGTH = 160
LIST_SEPARATOR = " · "   # the readers' ROW_SEPARATOR: one mark for "next item" everywhere


# "The following documents cover AWS KMS. To view them, use AWS Artifact." then the list.
_ANNOUNCES_RE = re.compile(r"(?i)\b(?:the following|as follows|(?:listed|shown|given) below|below (?:is|are))\b")


def _announces_list(sentences: list[Sentence], n: int) -> bool:
    """The last sentence of a paragraph that announces a list ("the following …") stands for
    the paragraph: the list comes right after it."""
    last = n + 1 == len(sentences) or sentences[n + 1].block != sentences[n].block
    return last and any(_ANNOUNCES_RE.search(s.text) for s in sentences[max(0, n - 3):n + 1]
                        if s.block == sentences[n].block)


def _with_list(sentences: list[Sentence], n: int, mark: Callable[[str], frozenset[str]],
               per_block: Counter[int]) -> Sentence:
    """A sentence that introduces a list ends in ":" and is followed by short one-sentence
    paragraphs (the list items): it states what it says together with its items, and is
    quoted with them."""
    intro = sentences[n]
    if intro.kind != "text" or not (intro.text.endswith(":") or _announces_list(sentences, n)):
        return intro
    items: list[Sentence] = []
    for s in sentences[n + 1:n + 1 + MAX_LIST_ITEMS]:
        alone = per_block[s.block] == 1   # an item is a paragraph of one sentence
        if s.kind != "text" or s.block == intro.block or not alone or len(s.text) > MAX_ITEM_LENGTH:
            break
        items.append(s)
    if not items:
        return intro
    whole = " ".join([intro.text, *(s.text for s in items)])
    return replace(intro, terms=intro.terms.union(*(s.terms for s in items)),
                   has_date=intro.has_date or any(s.has_date for s in items),
                   kinds=mark(whole), items=len(items))


def states(sentence: Sentence, kind: str, about_us: frozenset[str], history: bool,
           names_company: bool = False, after_company: bool = False) -> bool:
    """Whether the sentence states this kind of fact in the sense the question means.

    For kinds marked about_us (a date, a level), the sentence must also be about the company,
    unless the question asks about the standard's own history: it must name the company when
    its section does (`names_company`: "graded as basic or advanced" describes the scheme,
    not our grade), or else say what is held or was achieved ("In 2016, BSI created C5" is
    not the date anyone was granted it). A sentence saying what is held right after one naming
    the company goes on about it ("Contoso Vault passed an audit. Both services comply at the
    high level"): `after_company`.
    """
    if kind not in sentence.kinds:
        return False
    if history or kind not in about_us:
        return True
    if names_company:
        return COMPANY in sentence.kinds or (after_company and HOLDS in sentence.kinds)
    return bool(sentence.kinds & {HOLDS, COMPANY})


def after_company(sentences: list[Sentence], i: int) -> bool:
    """Whether sentence i follows one naming the company (see `states`)."""
    return i > 0 and COMPANY in sentences[i - 1].kinds


def names_company(sentences: Iterable[Sentence]) -> bool:
    return any(COMPANY in s.kinds for s in sentences)


def states_in(sentences: list[Sentence], kind: str, about_us: frozenset[str], history: bool) -> bool:
    """Whether any sentence of one section states this kind of fact (see `states`)."""
    ours = names_company(sentences)
    return any(states(s, kind, about_us, history, ours, after_company(sentences, i))
               for i, s in enumerate(sentences))


def choose_passage(sentences: list[Sentence], weights: Mapping[str, float], *,
                   name_sets: Iterable[frozenset[str]] = (), asks: Iterable[str] = (),
                   about_us: frozenset[str] = frozenset(), history: bool = False,
                   want_definition: bool = False, number_lines: tuple[str, ...] = ()) -> str:
    """The sentences that answer, in source order.

    `weights` maps a question term to how much it says (rarer = more); a sentence that names
    the certification (all words of one of `name_sets`) counts extra. For each kind of fact
    asked (`asks`: a count, a level, the auditor …), the best sentence stating that kind is
    quoted, so the fact asked is in the passage; with nothing particular asked, a sentence
    saying what the company holds comes before a definition. Headings count for less. When a
    certificate number answers, its line (`number_lines`, one per product asked) is always quoted. Non-adjacent
    sentences are joined with " … " so the reader sees text was left out.
    """
    if not sentences:
        return ""
    name_sets = [n for n in name_sets if n]
    top_weight = max(weights.values(), default=1.0)
    # Naming the certification breaks ties between sentences; it never outweighs a word asked.
    name_bonus = 0.5 * top_weight
    asked_holds = HOLDS in asks
    asks = [k for k in asks if k not in (HOLDS, NUMBER)]
    holds_first = not asks and not want_definition and not number_lines
    if holds_first and asked_holds:
        # "Do we hold X?" and nothing else: the sentence saying what is held answers it,
        # even when it calls X "the said certification".
        asks = [HOLDS]

    def score(s: Sentence) -> float:
        # A table row says what its header's columns say: "IL6" is in the header, "Secrets
        # Manager" in the row, and the row answers. A header alone answers nothing.
        header = sentences[s.header].terms if s.header >= 0 else frozenset()
        value = sum(w if t in s.terms else 0.5 * w for t, w in weights.items() if t in s.terms or t in header)
        longest = max((len(n) for n in name_sets if n <= s.terms), default=0)
        if longest:
            # Asked what a name means: the longer the name found, the more the sentence
            # defines it ("Cloud Computing Compliance Criteria Catalogue (C5)" beats "C5").
            value += name_bonus * (1 + (longest - 1 if want_definition else 0))
        # "Do we hold X?" is answered by the sentence saying what is held, even when it calls
        # X "the said certification"; otherwise only sentences on the question's words count.
        if holds_first and (value > 0 or asked_holds):
            value += 0.5 * top_weight * ((HOLDS in s.kinds) + (COMPANY in s.kinds))
        if s.kind in ("number", "heading", "header"):
            value *= 0.5
        return value

    scored = [(score(s), -i, i) for i, s in enumerate(sentences)]
    ours = names_company(sentences)
    chosen: list[int] = []
    for line in number_lines:
        chosen += [i for i, s in enumerate(sentences) if s.text == line and i not in chosen][:1]
    for kind in asks:
        stating = [x for x in scored
                   if states(sentences[x[2]], kind, about_us, history, ours, after_company(sentences, x[2]))] or [
            x for x in scored if hint(kind) in sentences[x[2]].kinds]
        # A second kind asked is a second fact: prefer a sentence not quoted yet.
        fresh = [x for x in stating if x[2] not in chosen] or stating
        if fresh:
            best = max(fresh, key=lambda x: (x[0] + 0.25 * top_weight * (COMPANY in sentences[x[2]].kinds), x[1]))
            if best[2] not in chosen:
                chosen.append(best[2])
    if not chosen:
        best_score, _, best = max(scored)
        if best_score <= 0:
            first = next((i for i, s in enumerate(sentences) if s.kind == "text"), 0)
            return sentences[first].text
        chosen = [best]
        runner = max((x for x in scored if x[2] != best), default=None)
        if runner and runner[0] > 0 and runner[0] >= RUNNER_SHARE * best_score:
            chosen.append(runner[2])
    elif len(chosen) == 1:
        # One number line or fact sentence: add the best other sentence when it says as much.
        share = RUNNER_SHARE if number_lines else FACT_RUNNER_SHARE
        runner = max((x for x in scored if x[2] not in chosen), default=None)
        if runner and runner[0] > 0 and runner[0] >= share * scored[chosen[0]][0]:
            chosen.append(runner[2])
    # A question in several parts: add sentences that state what the passage still lacks.
    covered = set().union(*(sentences[i].terms for i in chosen))
    while len(chosen) < 3:
        gains = [(sum(w for t, w in weights.items() if t in s.terms and t not in covered), -i, i)
                 for i, s in enumerate(sentences) if i not in chosen and s.kind != "heading"]
        gain, _, best = max(gains, default=(0.0, 0, -1))
        if gain < UNCOVERED_SHARE * top_weight or gain <= 0:
            break
        chosen.append(best)
        covered |= sentences[best].terms
    chosen = chosen[:3]
    # A quoted table row comes with its header row, so the reader knows what each cell means.
    for i in list(chosen):
        if sentences[i].header >= 0 and sentences[i].header not in chosen and len(chosen) < 4:
            chosen.append(sentences[i].header)
    # A sentence of a paragraph that announces a list ("The following documents cover AWS
    # KMS. To view them, use AWS Artifact.") is quoted with the rest of it and the list.
    for i in list(chosen):
        rest = range(i + 1, len(sentences))
        end = next((k for k in rest if sentences[k].block != sentences[i].block), len(sentences)) - 1
        if end > i and sentences[end].items and end not in chosen:
            chosen += [k for k in range(i + 1, end + 1) if k not in chosen]
    listed = {j for i in chosen for j in range(i + 1, i + 1 + sentences[i].items)}
    ordered = sorted(set(chosen) | listed)
    text = sentences[ordered[0]].text
    for prev, cur in zip(ordered, ordered[1:]):
        adjacent = cur == prev + 1 and sentences[cur].block == sentences[prev].block
        if cur in listed and cur == prev + 1:
            # A list's items follow its introduction, separated as a table row's cells are.
            text += (LIST_SEPARATOR if prev in listed else " ") + sentences[cur].text
            continue
        text += (" " if adjacent else " … ") + sentences[cur].text
    # Line breaks of the source (a PDF's lines) are layout, not words: fold them.
    return " ".join(text.split())


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
