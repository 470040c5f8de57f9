"""Bytes of a text-format document -> the text a person would read, or ReadError.

ftfy repairs mojibake ("f√ºr" -> "für") in text that was decoded wrongly somewhere before it
reached us; bytes that are not UTF-8 at all are decoded by ftfy's own guess (UTF-16 with a
BOM, Windows-1252, MacRoman) when the result reads as text. Binary junk is refused, so a
stray image renamed `.html` never reaches the index as noise.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import ftfy

from . import ReadError

_FIX_CONFIG = ftfy.TextFixerConfig(
    # Repair mojibake but keep typography, so quotes stay verbatim.
    uncurl_quotes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
)


def repair(text: str) -> str:
    """Normalise line ends and repair broken encodings, keeping every visible character."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return ftfy.fix_text(text, _FIX_CONFIG)


def _looks_like_text(text: str) -> bool:
    """Mostly letters, digits, punctuation and spaces: not a binary file decoded as text."""
    if not text.strip():
        return True
    sample = text[:20_000]
    # Each distinct character is looked up once: a text has a few dozen, and asking
    # unicodedata about every one of 20,000 characters was a second per 1,000 files.
    odd = sum(n for c, n in Counter(sample).items() if unicodedata.category(c) in ("Cc", "Co", "Cn", "Cs")
              and c not in "\n\t\r\f" or c == "\ufffd")
    return odd <= 0.01 * len(sample)


def decode_bytes(raw: bytes) -> str:
    """Decode and repair; ReadError when the bytes are not text in any encoding we can trust."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ReadError("broken UTF-16 text") from None
    else:
        if b"\x00" in raw:
            raise ReadError("binary data (NUL bytes), not a text document")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            try:
                text, _encoding = ftfy.guess_bytes(raw)
            except UnicodeError:
                raise ReadError(f"not UTF-8 text (byte {raw[exc.start]:#04x} on line {line}) "
                                "and no other encoding fits; save the file as UTF-8") from None
    if not _looks_like_text(text):
        raise ReadError("binary data, not a text document")
    return repair(text)


def read_text(path: Path) -> str:
    return decode_bytes(path.read_bytes())
