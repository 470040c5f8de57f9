"""Plain text (`.txt`): web pages saved as text, in the seeds' layout.

Paragraphs are separated by blank lines. Two things make a heading: a `#`-prefixed line
(`### Business Lines …` nests under the section above it), and a single short line directly
followed by `Last updated : YYYY-MM-DD …` (a new top-level section, as the compliance pages
print them). Everything else is text, its line breaks kept for ingest to judge.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import Block, Document
from . import frontmatter
from .decode import read_text

HASH_HEADING_RE = re.compile(r"^\s*(?P<marks>#{1,6})\s+(?P<text>\S.*?)\s*#*\s*$")
LAST_UPDATED_RE = re.compile(r"^\s*last\s+updated\s*[:：]", re.IGNORECASE)


def paragraphs(text: str, first_line: int = 1) -> list[tuple[str, int]]:
    """Blank-line separated paragraphs, lines stripped, with the line each starts on."""
    paras: list[tuple[str, int]] = []
    current: list[str] = []
    start = first_line
    for offset, line in enumerate(text.split("\n")):
        if line.strip():
            if not current:
                start = first_line + offset
            current.append(line.strip())
        elif current:
            paras.append(("\n".join(current), start))
            current = []
    if current:
        paras.append(("\n".join(current), start))
    return paras


def _starts_section(paras: list[tuple[str, int]], i: int) -> bool:
    """A single short line followed by a `Last updated :` line."""
    text = paras[i][0]
    return (i + 1 < len(paras) and "\n" not in text and len(text.split()) <= 30
            and not LAST_UPDATED_RE.match(text) and bool(LAST_UPDATED_RE.match(paras[i + 1][0])))


def read(path: Path) -> Document:
    meta, body, consumed = frontmatter.split(read_text(path), str(path))
    paras = paragraphs(body, consumed + 1)
    blocks: list[Block] = []
    for i, (text, line) in enumerate(paras):
        hashed = HASH_HEADING_RE.match(text) if "\n" not in text else None
        if hashed:
            blocks.append(Block("heading", hashed["text"], level=len(hashed["marks"]), line=line))
        elif _starts_section(paras, i):
            blocks.append(Block("heading", text, level=1, line=line))
        else:
            blocks.append(Block("text", text, line=line))
    valid_until, review_by = frontmatter.validity_of(meta, str(path))
    return Document(path=path, blocks=blocks, title=frontmatter.title_of(meta), meta=meta,
                    date=frontmatter.date_of(meta),
                    valid_until=valid_until, review_by=review_by)
