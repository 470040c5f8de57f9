"""What kind of fact a question asks for, and which sentences state that kind of fact.

A sales engineer reads the answer aloud, so "which auditor?" must quote the sentence that
names the auditor, not the section's opening; and when no sentence names one, the answer must
say so. Both sides are decided here from the `asks` of data/vocabulary.yaml: the build marks
each sentence with the kinds of fact it states (`SentenceMarker`), and a question is read for
the kinds it asks (`Cues`). The words and patterns are data; this module only applies
them, the same way for every certification.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from .analysis import plain_tokens
from .literals import may_match, required_words


@dataclass(frozen=True)
class AskKind:
    """A kind of fact a question can ask for (a count, the auditor, a date …); see vocabulary.yaml."""

    name: str
    cues: tuple[str, ...] = ()
    cjk_cues: tuple[str, ...] = ()
    evidence: tuple[re.Pattern[str], ...] = ()
    label: str | None = None
    about_us: bool = False
    question_patterns: tuple[re.Pattern[str], ...] = ()
    hints: tuple[re.Pattern[str], ...] = ()
    absorbs: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()     # "their", "customer's": a cue after these is someone else's


COMPANY = "company"      # a sentence naming the company: it says what the company holds or did
# Asks (data/vocabulary.yaml) that the engine treats apart from the others:
HOLDS = "holds"          # what the company holds: the default, never "not stated"
NUMBER = "number"        # a certificate number: stated by the section's number lines, not a sentence
COUNT = "count"          # a count: quoted when stated, not a reason to rank a section first


# "when does it expire": an absorbing cue this many words after the absorbed one takes it over.
ABSORB_DISTANCE = 4


def hint(kind: str) -> str:
    """The mark of a sentence that speaks to a kind of fact without stating it ("audited by a
    third-party certification body" names no auditor): quoted when nothing states the fact,
    never a reason to leave "not stated" out."""
    return kind + "~"


def _phrase_re(names: Iterable[str], *, case: bool = False) -> re.Pattern[str] | None:
    names = [n for n in names if n.strip()]
    if not names:
        return None
    alternatives = sorted((re.escape(n) for n in names), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", 0 if case else re.IGNORECASE)


class SentenceMarker:
    """Marks sentences with the kinds of fact they state (at build time)."""

    def __init__(self, asks: tuple[AskKind, ...], company_names: tuple[str, ...],
                 proper_names: tuple[str, ...] = ()):
        """`company_names`: curated, any case; `proper_names`: read from the documents, only
        as written ("Teams" the product, not "teams" of people)."""
        self.asks = asks
        self.company = _phrase_re(company_names)
        self.proper = _phrase_re(proper_names, case=True)
        self._company_tokens = {t for n in (*company_names, *proper_names) for t in plain_tokens(n)}
        # The words without which a pattern cannot match (index/literals.py): most patterns are
        # not run on most sentences.
        self._words = {rx: required_words(rx) for ask in asks for rx in (*ask.evidence, *ask.hints)}

    def kinds(self, text: str, own_names: Iterable[str] = ()) -> frozenset[str]:
        """The kinds of fact `text` states. `own_names`: the certification's own names, which
        are never the organisation a "who" question asks for ("certified by TISAX")."""
        own = {" ".join(plain_tokens(n)) for n in own_names}
        found: set[str] = set()
        if any(rx and rx.search(text) for rx in (self.company, self.proper)):
            found.add(COMPANY)
        lowered = text.lower() if text.isascii() else None
        words = self._words
        for ask in self.asks:
            if any(may_match(words[rx], lowered) and self._matches(rx, text, own) for rx in ask.evidence):
                found.add(ask.name)
            elif any(may_match(words[rx], lowered) and rx.search(text) for rx in ask.hints):
                found.add(hint(ask.name))
        return frozenset(found)

    def _matches(self, rx: re.Pattern[str], text: str, own: set[str]) -> bool:
        for m in rx.finditer(text):
            if "org" not in rx.groupindex:
                return True
            org = [t for t in plain_tokens(m["org"]) if t not in self._company_tokens]
            if org and " ".join(org) not in own and not all(t in ("the", "a", "an") for t in org):
                return True
        return False


@dataclass(frozen=True)
class Cues:
    """The question side: which kinds of fact a question asks for."""

    by_phrase: tuple[tuple[tuple[str, ...], str], ...]    # (tokens, kind), longest first
    cjk: tuple[tuple[str, str], ...]                      # (substring, kind)
    patterns: tuple[tuple[re.Pattern[str], str], ...]     # (pattern on the question, kind)
    labels: dict[str, str]
    about_us: frozenset[str]
    absorbs: dict[str, frozenset[str]]
    not_after: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    @classmethod
    def from_raw(cls, raw: list[dict]) -> "Cues":
        phrases, cjk, patterns, labels, about, absorbs, not_after = [], [], [], {}, set(), {}, {}
        for ask in raw:
            absorbs[ask["name"]] = frozenset(ask.get("absorbs", []))
            not_after[ask["name"]] = tuple(t for t in (tuple(plain_tokens(p)) for p in ask.get("not_after", [])) if t)
            patterns += [(re.compile(p), ask["name"]) for p in ask.get("question_patterns", [])]
            for cue in ask.get("cues", []):
                tokens = tuple(plain_tokens(cue))
                if tokens:
                    phrases.append((tokens, ask["name"]))
            cjk += [(c, ask["name"]) for c in ask.get("cjk_cues", [])]
            if ask.get("label"):
                labels[ask["name"]] = ask["label"]
            if ask.get("about_us"):
                about.add(ask["name"])
        phrases.sort(key=lambda p: len(p[0]), reverse=True)
        return cls(tuple(phrases), tuple(cjk), tuple(patterns), labels, frozenset(about), absorbs, not_after)

    @cached_property
    def words(self) -> frozenset[str]:
        """Every word of every cue: typed as such, never a typo of another word."""
        return frozenset(t for tokens, _ in self.by_phrase for t in tokens)

    def asked(self, text: str, tokens: list[str]) -> tuple[list[str], set[int]]:
        """Kinds asked, in the order the question asks them, and the token positions used.

        Longer cues win ("number of" is a count, not a certificate number), and a token
        belongs to one cue.
        """
        kinds: list[tuple[int, str]] = []
        used: set[int] = set()
        for cue, kind in self.by_phrase:
            n = len(cue)
            for i in range(len(tokens) - n + 1):
                if tuple(tokens[i:i + n]) == cue and not used & set(range(i, i + n)):
                    used.update(range(i, i + n))
                    if not self._someone_elses(kind, tokens, i):
                        kinds.append((i, kind))
        for cue, kind in self.cjk:
            pos = text.find(cue)
            if pos >= 0:
                kinds.append((len(tokens) + pos, kind))
        for pattern, kind in self.patterns:
            m = pattern.search(text)
            if m:
                kinds.append((len(tokens) + m.start(), kind))
        ordered = list(dict.fromkeys(k for _, k in sorted(kinds)))
        return [k for k in ordered if not self._absorbed(k, kinds, len(tokens))], used

    def pattern_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the question patterns matched (character spans): the words there say which
        fact is asked ("moderate or high?" offers values of a level), they are not its subject."""
        return [m.span() for pattern, _ in self.patterns for m in [pattern.search(text)] if m]

    def _someone_elses(self, kind: str, tokens: list[str], i: int) -> bool:
        """Whether the cue at token i belongs to someone else ("the customer's auditor wants
        our SOC 2" does not ask who audited us)."""
        return any(i >= len(p) and tuple(tokens[i - len(p):i]) == p for p in self.not_after.get(kind, ()))

    def _absorbed(self, kind: str, kinds: list[tuple[int, str]], n_tokens: int) -> bool:
        """Whether every time `kind` is asked, a kind that absorbs it follows within a few words:
        "when does it expire" asks one thing; "when did we get it and when does it expire", two.
        (Positions of Chinese cues and patterns are not word positions: there, absorbed.)"""
        takers = [p for p, k in kinds if kind in self.absorbs.get(k, frozenset())]
        if not takers:
            return False
        return all(p >= n_tokens or any(t >= n_tokens or 0 <= t - p <= ABSORB_DISTANCE for t in takers)
                   for p, k in kinds if k == kind)


def raw_asks(asks: tuple[AskKind, ...]) -> list[dict]:
    """What the question side needs of each ask, for the lexicon beside the index."""
    return [{"name": a.name, "cues": list(a.cues), "cjk_cues": list(a.cjk_cues), "label": a.label,
             "about_us": a.about_us, "question_patterns": [p.pattern for p in a.question_patterns],
             "absorbs": list(a.absorbs), "not_after": list(a.not_after)}
            for a in asks]
