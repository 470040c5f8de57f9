"""How text becomes index terms, the same way for documents and for questions.

Words are lower-cased, accent-folded and stemmed with Snowball (which, unlike Porter,
conflates "encryption"/"encrypted"). Runs of Chinese, Japanese or Korean characters have no
spaces to split on, so they become overlapping character pairs ("可信云" -> "可信", "信云"):
a name written in Chinese then matches inside a longer Chinese sentence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from whoosh.analysis import CharsetFilter, Filter, Token, Tokenizer
from whoosh.lang import stemmer_for_language
from whoosh.support.charset import accent_map

_CJK = (
    "\u2e80-\u2fdf\u3005\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u3400-\u4dbf"
    "\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff"
)
TOKEN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\W_])+)")
CJK_RE = re.compile(rf"[{_CJK}]")


_WORD_RE = re.compile(r"[^\W_]+")   # TOKEN_RE's words, in a text without CJK characters


def _pieces(text: str):
    """Yield (token, start, end): words, and CJK runs as overlapping pairs."""
    if not CJK_RE.search(text):
        # Most text has no CJK run to cut: one plain regex, the same tokens (indexing speed).
        for match in _WORD_RE.finditer(text):
            yield match.group(), match.start(), match.end()
        return
    for match in TOKEN_RE.finditer(text):
        if match.group("word"):
            yield match.group(), match.start(), match.end()
            continue
        run, start = match.group(), match.start()
        if len(run) == 1:
            yield run, start, start + 1
        for i in range(len(run) - 1):
            yield run[i:i + 2], start + i, start + i + 2


class CjkAwareTokenizer(Tokenizer):
    """Whoosh tokenizer: words as usual, CJK runs as overlapping character pairs."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for pos, (text, start, end) in enumerate(_pieces(value)):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token

    def __eq__(self, other):
        return self.__class__ is other.__class__


class FoldFilter(Filter):
    """Whoosh filter: `fold`, then `stem` when stemmed. The same terms as LowercaseFilter |
    CharsetFilter(accent_map) | StemFilter(lang="en") (accent_map maps no lower-case ASCII
    letter to another, and the stemmer leaves CJK pairs as they are), in one step per token
    with a C-level stemming cache: the three filters were a third of what the index writers
    spent analysing text."""

    def __init__(self, stemmed: bool = False):
        self.stemmed = stemmed

    def __eq__(self, other):
        return self.__class__ is other.__class__ and self.stemmed == other.stemmed

    def __call__(self, tokens):
        stemmed = self.stemmed
        for t in tokens:
            t.text = stem(fold(t.text)) if stemmed else fold(t.text)
            yield t


def plain_analyzer():
    """Lower-cased, accent-folded, unstemmed: for spelling correction and name matching."""
    return CjkAwareTokenizer() | FoldFilter()


def stem_analyzer():
    """What the searchable text fields use."""
    return CjkAwareTokenizer() | FoldFilter(stemmed=True)


_stemmer = stemmer_for_language("en")
_fold = CharsetFilter(accent_map)


def fold(word: str) -> str:
    """Lower-case and strip accents from one token, as the analyzers do."""
    return word.lower().translate(accent_map) if not word.isascii() else word.lower()


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """The index term for one plain (folded) token."""
    if CJK_RE.match(word):
        return word
    return _stemmer(word)


def plain_tokens(text: str) -> list[str]:
    """Folded, unstemmed tokens of a text."""
    if text.isascii():
        return _WORD_RE.findall(text.lower())   # the common case, without a call per token
    return [fold(t) for t, _, _ in _pieces(text)]


def tokens_with_spans(text: str) -> list[tuple[str, int, int]]:
    """Folded tokens with their character spans in `text` (to see how they were typed)."""
    return [(fold(t), s, e) for t, s, e in _pieces(text)]


def stems(text: str) -> list[str]:
    return [stem(t) for t in plain_tokens(text)]


_ROMAN = re.compile(r"^[IVX]+$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_DIGIT = re.compile(r"\d")


def _is_acronym(surface: str) -> bool:
    if _ROMAN.match(surface):          # "Type II", "Class IV": numerals, not names
        return False
    letters = [c for c in surface if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= 2


def _is_code(token: str) -> bool:
    """Letters and digits in one token: "soc2", "c5", "v3", "17a"."""
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token) and not CJK_RE.match(token)


def identifiers(text: str) -> set[str]:
    """Names of standards as written: acronyms ("gdpr"), codes ("soc2", "c5") and an acronym
    with its number squashed ("ISO 27017", "ISO/IEC 27017" -> "iso27017"), so "SOC 2" and
    "SOC2" are one identifier, and "ISO 22301" is never found in a text that says "ISO 27001"."""
    found: set[str] = set()
    spans = list(_pieces(text))
    for k, (token, start, end) in enumerate(spans):
        surface = text[start:end]
        if (surface.islower() or surface[1:].islower()) and not _DIGIT.search(surface):
            continue   # a plain word ("cloud", "Tencent"): no acronym, no code, no number
        folded = fold(token)
        if _is_acronym(surface) or _is_code(folded):
            found.add(folded)
        if not folded[:1].isdigit():
            continue
        # A capitalised phrase before a number is also known by its initials, as questions
        # abbreviate it: "Impact Level 5" -> il5.
        run: list[str] = []
        j = k - 1
        while j >= 0 and len(run) < 5:
            word = text[spans[j][1]:spans[j][2]]
            if not (word[:1].isupper() and word[1:].islower() and word.isalpha()) \
                    or text[spans[j][2]:spans[j + 1][1]] not in (" ", "-"):
                break
            run.insert(0, word)
            j -= 1
        # One word is enough before a long number that is not a year: "Office 365" -> o365
        # (not "Level 3" -> l3, nor "August 2018" -> a2018).
        if len(run) >= 2 or (run and len(folded) >= 3 and folded.isdigit() and not _YEAR.match(folded)):
            found.add("".join(w[0] for w in run).lower() + folded)
        # Acronyms just before a number, through "/": "ISO/IEC 27001" -> iso27001, iec27001.
        j, gap_ok = k - 1, ("", "-")
        while j >= 0:
            prev_token, prev_start, prev_end = spans[j]
            if not _is_acronym(text[prev_start:prev_end]) or text[prev_end:spans[j + 1][1]].strip() not in gap_ok:
                break
            found.add(fold(prev_token) + folded)
            j, gap_ok = j - 1, ("/",)
    return found
