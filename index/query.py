"""A question -> a plan: which certifications it names, which products, what else it asks.

User text never reaches a query parser: it is cleaned of Slack markup, cut into the same
tokens as the documents, and every token becomes either part of a name, part of a product,
a stop word, or a *concept* that the search looks for. Operators, field prefixes, quotes,
wildcards, emoji and 5,000-character pastes are all just words here.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from .analysis import CJK_RE, fold, identifiers, plain_tokens, stem, tokens_with_spans
from .asks import Cues

MAX_CHARS = 2000      # a question longer than this is a paste; its start says what is asked
MAX_TOKENS = 60

_SLACK_LINK = re.compile(r"<[^<>]*>")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-']+:", re.IGNORECASE)


def clean_question(text: str) -> str:
    """Drop what Slack adds around a question: mentions, channel refs, links, emoji codes."""
    def link(m: re.Match[str]) -> str:
        # <@U123>, <!here>, <!subteam^S1|@team>, <#C1|general>, <https://x|the RFP>: none of
        # them is the question.
        return " "
    text = _SLACK_LINK.sub(link, text or "")
    text = html.unescape(text)
    text = _URL.sub(" ", text)
    text = _EMOJI_CODE.sub(" ", text)
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    return " ".join(text.split())[:MAX_CHARS]


def osa_distance(a: str, b: str, limit: int = 2, *, swaps: bool = True) -> int:
    """Edit distance counting a swap of neighbours as one edit ("ospra" -> "ospar" is 1);
    with swaps=False, plain Levenshtein distance (a swap is two edits).

    Any distance above `limit` is returned as limit + 1, as soon as it is certain: spelling
    correction compares a typed word with hundreds of indexed ones, most of which differ
    from the second or third letter on."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if swaps and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            # No later row can come back under the limit (a row's least value grows by at
            # most one per row, and a swap reaches back only one row further).
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[len(b)], limit + 1)


# --- the lexicon: names, products, vocabulary ---------------------------------------------


@dataclass(frozen=True)
class Phrase:
    owner: str                  # certification key or product name
    display: str                # as written in data/
    tokens: tuple[str, ...]     # plain tokens
    squashed: str               # tokens joined: "k-isms", "K ISMS" and "KISMS" all match

    @property
    def stems(self) -> frozenset[str]:
        return frozenset(stem(t) for t in self.tokens)


def _phrases(owner: str, names: list[str]) -> list[Phrase]:
    out = []
    for name in names:
        tokens = tuple(plain_tokens(name))
        if tokens:
            out.append(Phrase(owner, name, tokens, "".join(tokens)))
    return out


class Lexicon:
    """Names, products and vocabulary, as stored beside the index by the build."""

    def __init__(self, raw: dict):
        vocab = raw.get("vocabulary", {})
        self.stopwords = frozenset(fold(w) for w in vocab.get("stopwords", []))
        self.number_words = frozenset(fold(w) for w in vocab.get("number_words", []))
        self.all_words = frozenset(fold(w) for w in vocab.get("all_words", []))
        self.definition_words = frozenset(fold(w) for w in vocab.get("definition_words", []))
        self.synonyms: dict[str, frozenset[str]] = {}
        for group in vocab.get("synonyms", []):
            group_stems = {stem(t) for word in group for t in plain_tokens(word)}
            for word in group:
                for t in plain_tokens(word):
                    self.synonyms[stem(t)] = frozenset(self.synonyms.get(stem(t), frozenset()) | group_stems)
        self.cert_names: dict[str, str] = {}
        self.names: list[Phrase] = []
        for key, entry in raw.get("certifications", {}).items():
            self.cert_names[key] = entry["name"]
            self.names.extend(_phrases(key, entry["names"]))
        self.products: dict[str, list[Phrase]] = {}
        for product in raw.get("products", []):
            self.products[product["name"]] = _phrases(product["name"], product["names"])
        self._by_first: dict[str, list[Phrase]] = {}
        for p in self.names + [p for ps in self.products.values() for p in ps]:
            self._by_first.setdefault(p.tokens[0], []).append(p)
            self._by_first.setdefault(p.squashed, []).append(p)
        self._by_owner: dict[str, list[Phrase]] | None = None
        self._alias_stems: dict[str, list[frozenset[str]]] = {}
        self._by_shape: dict[str, tuple[tuple[int, int], ...]] | None = None
        self.cues = Cues.from_raw(vocab.get("asks", []))
        self.history_words = frozenset(stem(fold(w)) for w in vocab.get("history_words", []))
        self.named_documents = [NamedDocument.of(group) for group in vocab.get("named_documents", []) if group]
        # Acronyms the documents write before a number ("ISO 27001"): typed in lower case
        # before a number ("iso 22301"), they still make an identifier.
        self.id_prefixes = frozenset(raw.get("id_prefixes", []))

    def near_tokens(self, word: str) -> list[tuple[Phrase, int]]:
        """(name, position) whose token there could be one edit from `word`, in the order of
        the names. Indexed on first use by each token and each of its one-letter deletions: two
        words one edit apart share a key (an insertion or a deletion is one word's deletion, a
        substitution or a swap of neighbours a deletion from both), so an unknown word looks at
        a handful of tokens, not at the thousands of same-length names of a large lexicon.

        The index holds (name number, position) pairs of plain ints in tuples, which Python's
        garbage collector stops tracking: half a million entries holding the names themselves
        made every full collection of a large lexicon's process take 120 ms."""
        if self._by_shape is None:
            shapes: dict[str, list[tuple[int, int]]] = {}
            for n, p in enumerate(self.names):
                for k, t in enumerate(p.tokens):
                    if len(t) >= 3:
                        for key in _deletions(t):
                            shapes.setdefault(key, []).append((n, k))
            self._by_shape = {key: tuple(entries) for key, entries in shapes.items()}
        near: set[tuple[int, int]] = set()
        for key in _deletions(word):
            near.update(self._by_shape.get(key, ()))
        return [(self.names[n], k) for n, k in sorted(near)]

    def names_of(self, cert_key: str) -> list[Phrase]:
        """A certification's name phrases (`names` lists every certification's together)."""
        if self._by_owner is None:
            by_owner: dict[str, list[Phrase]] = {}
            for p in self.names:
                by_owner.setdefault(p.owner, []).append(p)
            self._by_owner = by_owner
        return self._by_owner.get(cert_key, [])

    def alias_stems(self, cert_key: str) -> list[frozenset[str]]:
        """The stemmed words of each of a certification's names (per certification, on first
        use: stemming every name of a large catalogue would be most of a cold start)."""
        stems = self._alias_stems.get(cert_key)
        if stems is None:
            stems = self._alias_stems[cert_key] = [p.stems for p in self.names_of(cert_key)]
        return stems

    def phrases_at(self, tokens: list[str], i: int) -> list[tuple[Phrase, int]]:
        """Names and products that start at token i, with the index after them."""
        found = []
        candidates = {id(p): p for t in (tokens[i],) for p in self._by_first.get(t, [])}
        for p in candidates.values():
            n = len(p.tokens)
            if tuple(tokens[i:i + n]) == p.tokens:
                found.append((p, i + n))
                continue
            for j in range(i + 1, min(len(tokens), i + 3) + 1):
                if "".join(tokens[i:j]) == p.squashed:
                    found.append((p, j))
                    break
        return found


@dataclass(frozen=True)
class NamedDocument:
    """A document or agreement customers ask for by name (BAA, SOC 2 report)."""

    display: str
    aliases: tuple[tuple[str, ...], ...]     # plain tokens of each alias
    ids: frozenset[str]                      # the aliases as identifiers ("soc2")

    @classmethod
    def of(cls, group: list[str]) -> "NamedDocument":
        aliases = tuple(tuple(plain_tokens(a)) for a in group if plain_tokens(a))
        return cls(group[0], aliases, frozenset(i for a in group for i in identifiers(a)
                                                if any(c.isdigit() for c in i)))

    def asked_in(self, tokens: list[str], ids: set[str]) -> bool:
        return bool(self.ids & ids) or any(
            tuple(tokens[i:i + len(a)]) == a for a in self.aliases for i in range(len(tokens) - len(a) + 1))

    def stated_in(self, terms: set[str], ids: set[str]) -> bool:
        """Whether a section with these terms and identifiers mentions the document."""
        return bool(self.ids & ids) or any(all(stem(t) in terms for t in a) for a in self.aliases)


# --- the plan -------------------------------------------------------------------------------


@dataclass
class Concept:
    """One thing the question asks about, with every form that counts as finding it."""

    surface: str                                 # as typed
    stems: frozenset[str]                        # exact forms
    synonyms: frozenset[str] = frozenset()       # same meaning (full but not exact credit)
    corrected: frozenset[str] = frozenset()      # from spelling correction (partial credit)
    emphatic: bool = False                       # typed as an acronym (FedRAMP, ISMAP)
    product: str | None = None
    cue: bool = False                            # says what kind of fact is asked ("audited", "level")


@dataclass
class Plan:
    text: str
    concepts: list[Concept] = field(default_factory=list)
    named: set[str] = field(default_factory=set)               # cert keys the question names
    name_stems: set[str] = field(default_factory=set)          # tokens that formed names
    name_phrases: list[frozenset[str]] = field(default_factory=list)   # each name typed, as stems
    name_ids: set[str] = field(default_factory=set)            # each name typed, squashed: "soc2"
    product_terms: list[frozenset[str]] = field(default_factory=list)
    number_intent: bool = False
    all_intent: bool = False
    definition_intent: bool = False
    corrections: list[tuple[str, str]] = field(default_factory=list)
    asks: list[str] = field(default_factory=list)              # kinds of fact asked, in order
    history: bool = False                                      # about the standard itself
    documents: list[NamedDocument] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)                 # identifiers typed (index/analysis.py)


def _deletions(word: str) -> set[str]:
    """The word and every word one deleted letter makes of it (see Lexicon.near_tokens)."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def _emphatic(surface: str) -> bool:
    letters = [c for c in surface if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= 2


def _fuzzy_name(lexicon: Lexicon, tokens: list[str], i: int) -> tuple[Phrase, int, str] | None:
    """A name typed with one slip: "ospra" -> OSPAR, "fics" -> FISC, "nist cfs" -> NIST CSF.

    One edit (a swap of neighbours counts as one) in one token of at least 3 letters, and the
    whole name otherwise exact; a one-word name needs 4 letters, so short acronyms are never
    guessed into each other.
    """
    word = tokens[i]
    best: tuple[Phrase, int, str] | None = None
    if len(word) < 3:
        return None
    for p, k in lexicon.near_tokens(word):   # in the names' order: ties go as a full scan would
        t = p.tokens[k]
        if t == word or (len(p.tokens) == 1 and (len(word) < 4 or len(t) < 4)):
            continue
        start = i - k
        if start < 0 or start + len(p.tokens) > len(tokens):
            continue
        window = tokens[start:start + len(p.tokens)]
        if any(w != pt for j, (w, pt) in enumerate(zip(window, p.tokens)) if j != k):
            continue
        if osa_distance(word, t, 1) == 1 and (best is None or len(p.tokens) > len(best[0].tokens)):
            best = (p, start + len(p.tokens), p.display)
    return best


def _compound_tail(text: str, start: int) -> bool:
    """Whether the word at `start` ends a hyphenated compound ("tenant-level separation",
    "enterprise-grade"): an adjective, not a cue asking for a level or a grade."""
    return start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha()


def _typo_fixed(word: str, known: Callable[[str], bool], correct: Callable[[str], str | None]) -> str:
    """The word as the documents spell it, when it is unknown and one of theirs is that close."""
    if known(word) or not word.isalpha() or CJK_RE.match(word):
        return word
    return correct(word) or word


def _typed_identifiers(tokens: list[str], prefixes: frozenset[str]) -> set[str]:
    """"iso 22301" typed in lower case is ISO 22301: an acronym the documents put before
    numbers, then a number, is an identifier even when the question does not capitalise it."""
    return {a + b for a, b in zip(tokens, tokens[1:]) if a in prefixes and b.isdigit()}


def plan_question(question: str, lexicon: Lexicon, known: Callable[[str], bool],
                  correct: Callable[[str], str | None]) -> Plan:
    """Read a question. `known(word)`: is this word in the documents; `correct(word)`: a fix."""
    text = clean_question(question)
    spans = tokens_with_spans(text)[:MAX_TOKENS]
    tokens = [t for t, _, _ in spans]
    surfaces = [text[s:e] for _, s, e in spans]
    plan = Plan(text=text)
    plan.history = any(stem(t) in lexicon.history_words for t in tokens) or any(
        w in text for w in lexicon.history_words if CJK_RE.match(w))
    plan.ids = identifiers(text) | _typed_identifiers(tokens, lexicon.id_prefixes)
    plan.documents = [d for d in lexicon.named_documents if d.asked_in(tokens, plan.ids)]
    used = [False] * len(tokens)

    # Names and products, longest first at each position.
    i = 0
    while i < len(tokens):
        matches = lexicon.phrases_at(tokens, i)
        names = [(p, j) for p, j in matches if p.owner in lexicon.cert_names]
        products = [(p, j) for p, j in matches if p.owner not in lexicon.cert_names]
        if names:
            p, j = max(names, key=lambda m: m[1])
            plan.named.add(p.owner)
            plan.name_stems.update(stem(t) for t in tokens[i:j])
            plan.name_phrases.append(frozenset(stem(t) for t in tokens[i:j]))
            plan.name_ids.add("".join(tokens[i:j]))
        if products:
            p, pj = max(products, key=lambda m: m[1])
            plan.product_terms.extend(q.stems for q in lexicon.products[p.owner])
            if not names or pj > max(j for _, j in names):
                syn = frozenset().union(*(q.stems for q in lexicon.products[p.owner]))
                plan.concepts.append(Concept(" ".join(surfaces[i:pj]),
                                             frozenset(stem(t) for t in tokens[i:pj]), syn,
                                             emphatic=any(_emphatic(s) for s in surfaces[i:pj]),
                                             product=p.owner))
                j = pj
        if names or products:
            for k in range(i, j):
                used[k] = True
            i = j
        else:
            i += 1

    # What kind of fact is asked, read from the question outside the names it contains
    # ("MLPS 2.0 level" asks for a level, not a version).
    unnamed = list(text)
    for k, (_, start, end) in enumerate(spans):
        if used[k]:
            unnamed[start:end] = " " * (end - start)
    # A cue typed with a typo ("assesor?", "who certifed") still says what is asked.
    cue_tokens = ["" if used[k] or _compound_tail(text, spans[k][1])
                  else t if t in lexicon.cues.words else _typo_fixed(t, known, correct)
                  for k, t in enumerate(tokens)]
    plan.asks, cue_positions = lexicon.cues.asked("".join(unnamed), cue_tokens)
    for start, end in lexicon.cues.pattern_spans("".join(unnamed)):
        cue_positions |= {k for k, (_, s, e) in enumerate(spans) if start <= s and e <= end and not used[k]}

    seen: set[str] = set()
    i = 0
    while i < len(tokens):
        word, surface = tokens[i], surfaces[i]
        if used[i]:
            i += 1
            continue
        if word in lexicon.number_words:
            plan.number_intent = True
        if word in lexicon.all_words:
            plan.all_intent = True
        if word in lexicon.definition_words:
            plan.definition_intent = True
        if word in lexicon.stopwords or word in lexicon.number_words or word in lexicon.all_words \
                or word in lexicon.definition_words:
            i += 1
            continue
        if i in cue_positions and not known(word):
            # A word that only says what kind of fact is asked ("renewal", "expiry") is not a
            # subject: where the documents never use it, it must not count against answering.
            i += 1
            continue
        if not known(word) and not word.isdigit():
            fuzzy = _fuzzy_name(lexicon, tokens, i)
            if fuzzy and not any(used[fuzzy[1] - len(fuzzy[0].tokens):fuzzy[1]]):
                phrase, end, fixed = fuzzy
                plan.named.add(phrase.owner)
                plan.name_stems.update(phrase.stems)
                plan.name_phrases.append(phrase.stems)
                plan.corrections.append((surface, fixed))
                for k in range(end - len(phrase.tokens), end):
                    used[k] = True
                i += 1
                continue
        term = stem(word)
        if term in seen:
            i += 1
            continue
        seen.add(term)
        concept = Concept(surface, frozenset({term}), lexicon.synonyms.get(term, frozenset()) - {term},
                          emphatic=_emphatic(surface), cue=i in cue_positions)
        if not known(word) and not word.isdigit() and not CJK_RE.match(word):
            fixed = correct(word)
            if fixed:
                concept.corrected = frozenset({stem(fixed)}) | lexicon.synonyms.get(stem(fixed), frozenset())
                plan.corrections.append((surface, fixed))
        plan.concepts.append(concept)
        i += 1
    return plan
