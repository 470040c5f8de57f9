"""PDF through pypdf: the text layer, page by page, without running headers and footers.

pypdf's text visitor reports each piece of text with its font size and position, so lines can
be grouped into paragraphs where the page leaves a clear vertical gap, and a short line set
clearly larger than the document's body text can be called a heading (the body size is the
most used one in the whole file, so a cover page of big type does not hide its own title).
Lines inside a paragraph stay "\n"-joined: ingest re-joins sentences and needs to see lines
such as "Certificate Number: IS 552878" whole.

Dropped: lines that recur among the first or last lines of at least half of the pages (with two
pages or more): "Acme - Confidential" exactly, "Page 3 of 7" and bare page numbers whatever the
number. Only lines that show a page number are matched that loosely, so "Annex 1" at the top of
one page and "Annex 2" at the top of the next both stay. Evenly spaced lines with no line
pitch to compare a gap with stay one paragraph, as lines without a blank line between them do
in a text file.

Refused with a reason: files that are not PDFs, PDFs locked by a password (an empty user
password, common on permission-locked certificates, is tried first; AES needs the
`cryptography` package), and PDFs without text (scans).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pypdf import PageObject, PdfReader
from pypdf.errors import DependencyError

import logging

from ..dates import parse_date
from . import Block, Document, ReadError


# pypdf logs its own warnings about a damaged file ("EOF marker not found"); the build already
# says, in one line naming the file, why it was skipped.
logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass
class _Line:
    text: str
    size: float = 0.0            # font size in points, 0 when pypdf did not say
    y: float | None = None       # baseline height on the page


EDGE_LINES = 3                   # running headers/footers are among a page's first/last lines
HEADING_RATIO = 1.15             # "clearly larger" than the body text
_FILE_NAME = re.compile(r"^microsoft \w+ - |\.(docx?|pdf|rtf|odt|pptx?|xlsx?|txt|html?|indd)$", re.I)
_PLACEHOLDER = re.compile(r"untitled\S*|document\d*", re.I)
# "3", "- 3 -", "3/7", "Page 3 of 7", "Seite 3": a line whose numbers count pages ("Annex 2" does not).
_PAGE_NUMBER = re.compile(r"^[\W\d]+$|\b(?:page|pg|p|seite|página|pagina|blatt)\b\.?\s*\d|\d\s*(?:/|of|von|de|sur)\s*\d", re.I)


def _line(parts: list[tuple[str, float, float]]) -> _Line:
    """One line from its (text, size, height) pieces: the size most of its letters use."""
    weights: Counter[float] = Counter()
    for text, size, _height in parts:
        weights[round(size * 2) / 2] += len(text.strip())
    placed = [height for text, _size, height in parts if text.strip()]
    return _Line(" ".join("".join(text for text, _s, _h in parts).split()),
                 max(weights, key=weights.__getitem__, default=0.0), placed[0] if placed else None)


def _page_lines(page: PageObject) -> list[_Line]:
    """The page's lines in reading order, each with its font size and height on the page."""
    pieces: list[tuple[str, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
        if text:   # the text matrix times the page's: its vertical scale and its baseline
            scale = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
            pieces.append((text, size * scale, tm[4] * cm[1] + tm[5] * cm[3] + cm[5]))

    text = page.extract_text(visitor_text=visit)
    if "".join(p[0] for p in pieces) != text:       # cannot place the text: no sizes, no gaps
        return [_Line(" ".join(line.split())) for line in text.split("\n")]
    lines: list[_Line] = []
    current: list[tuple[str, float, float]] = []
    for piece, size, height in pieces:
        for i, part in enumerate(piece.split("\n")):
            if i:
                lines.append(_line(current))
                current = []
            current.append((part, size, height))
    lines.append(_line(current))
    return lines


def _running(pages: list[list[_Line]]) -> set[str]:
    """Keys of lines at the edges of at least half of the pages: headers, footers, page numbers."""
    if len(pages) < 2:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        kept = [line for line in lines if line.text]
        seen.update({_key(line.text) for line in kept[:EDGE_LINES] + kept[-EDGE_LINES:]})
    return {key for key, n in seen.items() if n >= max(2, math.ceil(len(pages) / 2))}


def _key(text: str) -> str:
    """Page numbers ignored in a line that shows one; any other line must repeat exactly."""
    return re.sub(r"\d+", "#", text.lower()) if _PAGE_NUMBER.search(text) else text.lower()


def _is_heading(line: _Line, body: float) -> bool:
    return (body > 0 and line.size >= body * HEADING_RATIO and len(line.text.split()) <= 12
            and not line.text.endswith(".") and any(c.isalpha() for c in line.text))


def _blocks(page_no: int, lines: list[_Line], body: float, levels: dict[float, int]) -> list[Block]:
    """Paragraphs and headings of one page; a paragraph ends at a blank line or a clear gap."""
    steps = sorted(a.y - b.y for a, b in zip(lines, lines[1:])
                   if a.y is not None and b.y is not None and 0.5 * body < a.y - b.y < 4 * body)
    pitch = steps[len(steps) // 4] if steps else 0.0
    blocks: list[Block] = []
    para: list[str] = []
    prev: _Line | None = None
    for line in lines + [_Line("")]:
        heading = _is_heading(line, body)
        after_heading = prev is not None and _is_heading(prev, body)
        gap = (prev is not None and prev.y is not None and line.y is not None
               and (line.y > prev.y or prev.y - line.y > max(1.5 * max(line.size, prev.size), 1.3 * pitch)))
        # A change of type size ends a paragraph; a heading set on two lines is one heading.
        if para and (not line.text or gap or heading != after_heading or line.size != prev.size):
            if after_heading:
                blocks.append(Block("heading", " ".join(para), level=levels[prev.size], line=page_no))
            else:
                blocks.append(Block("text", "\n".join(para), line=page_no))
            para = []
        if line.text:
            para.append(line.text)
            prev = line
    return blocks


def _open(path: Path) -> PdfReader:
    with path.open("rb") as f:
        if b"%PDF-" not in f.read(1024):
            raise ReadError("not a PDF file (no %PDF header)")
    reader = PdfReader(path)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except DependencyError:
            raise ReadError("encrypted PDF: opening it needs the cryptography package "
                            "(pip install 'pypdf[crypto]')") from None
        if not opened:
            raise ReadError("encrypted PDF: it needs a password")
    return reader


def read(path: Path) -> Document:
    reader = _open(path)
    pages = [_page_lines(page) for page in reader.pages]
    if not any(line.text for lines in pages for line in lines):
        raise ReadError("no text layer (a scanned image?): OCR it or add a text version")
    running = _running(pages)
    pages = [[line for line in lines if not line.text or _key(line.text) not in running] for lines in pages]
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[line.size] += len(line.text)
    body = max(sizes, key=sizes.__getitem__, default=0.0)
    heads = sorted({line.size for lines in pages for line in lines if _is_heading(line, body)}, reverse=True)
    levels = {size: min(rank, 6) for rank, size in enumerate(heads, start=1)}
    blocks = [b for no, lines in enumerate(pages, start=1) for b in _blocks(no, lines, body, levels)]

    info = reader.metadata or {}
    meta = {str(k).lstrip("/").lower(): str(info[k]) for k in info if info[k] is not None}
    title = meta.get("title", "").strip()
    if not title or _FILE_NAME.search(title) or _PLACEHOLDER.fullmatch(title):
        title = next((b.text for b in blocks if b.kind == "heading"), None)
    date = parse_date(meta.get("moddate")) or parse_date(meta.get("creationdate"))
    return Document(path=path, blocks=blocks, title=title or None, meta=meta, date=date)
