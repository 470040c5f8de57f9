"""A cheap test that a regular expression cannot match a text, before running it.

Marking sentences at build time (asks.SentenceMarker) runs some forty patterns of
data/vocabulary.yaml over every sentence: at 50,000 sections that was a quarter of the
build's main process. Most patterns cannot match without one of a few words ("January" …
"December", "audit", "assess" …), and looking for those words in the lowercased sentence
costs a fraction of running the pattern. The words are read from the pattern itself, so the
vocabulary stays the only place the patterns are written.

The test only ever says "cannot match" when that is certain: the pattern is run whenever
one of its words is there, or when nothing could be read from it. It applies to ASCII texts
only: there, a letter matches only its own upper or lower case even under (?i), whereas
Unicode case folding (the Kelvin sign matching k under (?i)) would need more care.
"""

from __future__ import annotations

import re
from re import _constants as sre
from re import _parser as sre_parse

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def required_words(rx: re.Pattern[str]) -> frozenset[str] | None:
    """Lowercase strings one of which every match of `rx` contains, or None when no such
    strings could be read from the pattern (it then always has to be run)."""
    try:
        parsed = sre_parse.parse(rx.pattern, rx.flags)
    except Exception:   # a pattern the parser reads differently: no shortcut, never an error
        return None
    found = _sequence(parsed)
    return frozenset(found) if found else None


def may_match(words: frozenset[str] | None, lowered: str | None) -> bool:
    """False only when the pattern certainly does not match: `lowered` is the text in lower
    case when it is ASCII (None otherwise), `words` what required_words read."""
    return words is None or lowered is None or any(w in lowered for w in words)


def _sequence(items) -> set[str] | None:
    """What a sequence of pattern items requires: its most telling requirement (the one whose
    shortest string is longest), counting runs of plain letters as one string."""
    best: set[str] | None = None
    run = ""
    for op, av in items:
        if op is sre.LITERAL and av < 128:
            run += chr(av).lower()
            continue
        if run:
            best, run = _better(best, {run}), ""
        best = _better(best, _item(op, av))
    return _better(best, {run}) if run else best


def _item(op, av) -> set[str] | None:
    if op is sre.SUBPATTERN:
        return _sequence(av[3])
    if op is sre.ATOMIC_GROUP:
        return _sequence(av)
    if op in _REPEATS:
        low, _high, item = av
        return _sequence(item) if low >= 1 else None
    if op is sre.BRANCH:
        branches = [_sequence(b) for b in av[1]]
        return None if any(b is None for b in branches) else set().union(*branches)
    return None   # classes, anchors, lookarounds, group references: nothing certain


def _better(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    if a is None or b is None:
        return a if b is None else b
    return a if min(map(len, a)) >= min(map(len, b)) else b
