"""A follow-up question in a conversation -> the standalone question to search.

After "TRUCS certificate number for object storage?", the follow-up "what about block
storage?" means "the TRUCS certificate number for block storage". This module writes that
question out in words, so the engine answers it like any other question (index/search.py
knows nothing of follow-ups) and the asker can be shown exactly what was searched. Nothing
here knows where the conversation happens: the caller keeps the earlier question.

The rules, the same for every certification:

1. Openers that only say "this continues" go: "and", "also", "what about", "how about" …
   ("and OSPAR too?" -> "OSPAR").
2. Which certification: a follow-up that names one, as the engine reads names (aliases,
   acronyms, a name typed with one slip: `Reader.plan`), is about that one. Otherwise it
   is about the certification of the earlier answer: its name replaces "it" / "them"
   ("who audited it?" -> "who audited OSPAR"), or is added ("which regions for TISAX").
3. Which kind of fact: a follow-up that asks none of its own (no cue of index/asks.py:
   number, level, date, auditor, regions … nor "do we have") asks the earlier question's
   kinds ("and OSPAR?" after a certificate number -> "certificate number for OSPAR").
   A kind is written as its plain label from data/vocabulary.yaml when the label reads back
   as that kind, else in the words the earlier question used for it. "Do we have …"
   (`holds`) is what every question asks when it asks nothing else, so it is never carried.

Whatever the follow-up says besides (a product, a country) is kept as typed: it is what the
follow-up is about. What the earlier question said besides its name and kinds is dropped:
"what about block storage?" replaces "object storage", it does not add to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from .analysis import CJK_RE, tokens_with_spans
from .asks import HOLDS, Cues
from .query import Lexicon, Plan, clean_question

# Openers and closers that only say the question continues the conversation.
_OPENER = re.compile(
    r"^(?:(?:and|also|plus|then|so|ok(?:ay)?|what about|how about|what of|same(?: question)? for)"
    r"\b[\s,;:.!?-]*)+", re.IGNORECASE)
_CLOSER = re.compile(r"(?:[\s,]+(?:too|as well|then))+[\s?!.。？！]*$", re.IGNORECASE)
_END = " \t?!.。？！,;:"
# Stand-ins for the earlier certification; "this" and "that" are left alone, because they
# also open relative clauses ("the regions that are certified").
_PRONOUN = re.compile(r"\b(?:it|them)\b", re.IGNORECASE)
# A follow-up starting with one of these already says how it relates: no "for" before it.
_PREPOSITION = re.compile(r"^(?:in|for|on|at|of|about|with|under|from|to|by|across|within|"
                          r"outside|inside|per|via)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Earlier:
    """What a conversation was last answered about: the question searched for that answer,
    and the certification of its top result."""

    question: str
    certification: str


@dataclass(frozen=True)
class FollowUp:
    """A follow-up as typed, what it follows, and the standalone question searched for it."""

    asked: str
    earlier: Earlier
    searched: str


class Reader(Protocol):
    """What the rewrite needs of `index.search.Engine`: how it reads a question (names, kinds)."""

    lexicon: Lexicon

    def plan(self, question: str) -> Plan: ...


def strip_openers(text: str) -> str:
    """The follow-up without "and" / "what about" … in front, "too" behind, or end punctuation."""
    text = clean_question(text)
    text = _OPENER.sub("", text)
    text = _CLOSER.sub("", text)
    return text.strip(_END)


def kind_words(question: str, kinds: list[str], cues: Cues) -> list[str]:
    """How to write each of `kinds` (asked by `question`) into another question: the kind's
    label when it reads back as that kind, else the cue words `question` used for it."""
    text = clean_question(question)
    spans = tokens_with_spans(text)
    tokens = [t for t, _, _ in spans]
    words: list[str] = []
    for kind in kinds:
        if kind == HOLDS:
            continue
        label = cues.labels.get(kind)
        if label and kind in cues.asked(label, [t for t, _, _ in tokens_with_spans(label)])[0]:
            words.append(label)
            continue
        typed = _typed_cue(text, spans, tokens, kind, cues)
        if typed:
            words.append(typed)
    return list(dict.fromkeys(words))


def _typed_cue(text: str, spans: list[tuple[str, int, int]], tokens: list[str], kind: str,
               cues: Cues) -> str | None:
    """The first, longest cue for `kind` in the question, as typed."""
    for cue, cue_kind in cues.by_phrase:          # longest first
        if cue_kind != kind:
            continue
        n = len(cue)
        for i in range(len(tokens) - n + 1):
            if tuple(tokens[i:i + n]) == cue:
                return text[spans[i][1]:spans[i + n - 1][2]]
    for cue, cue_kind in cues.cjk:
        if cue_kind == kind and cue in text:
            return cue
    return None


def _joined(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _for(rest: str) -> str:
    """ "for" to put before `rest`, unless it starts with a preposition (or is not English)."""
    if not rest or _PREPOSITION.match(rest) or CJK_RE.match(rest[0]):
        return ""
    return "for"


def rewrite(asked: str, earlier: Earlier, reader: Reader) -> FollowUp:
    """The standalone question for `asked`, a follow-up to `earlier` (see the module's rules)."""
    rest = strip_openers(asked)
    own = reader.plan(rest)
    kinds = [] if own.asks else kind_words(earlier.question, reader.plan(earlier.question).asks,
                                            reader.lexicon.cues)
    asks = " ".join(kinds)
    cert = earlier.certification
    if own.named:                                   # stands on its own name
        searched = _joined(asks, _for(rest) if asks else "", rest)
    elif _PRONOUN.search(rest):                     # "who audited it?"
        about = _PRONOUN.sub(lambda _: cert, rest, count=1)
        searched = _joined(asks, _for(about) if asks else "", about)
    elif own.asks:                                  # "which regions?"
        searched = _joined(rest, "for", cert)
    else:                                           # "what about block storage?"
        searched = _joined(cert, asks, _for(rest), rest)
    return FollowUp(asked=" ".join(asked.split()), earlier=earlier, searched=searched or cert)
