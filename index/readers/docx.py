"""Word (`.docx`) through python-docx: the body's paragraphs and tables, in order.

Word says what a heading is through paragraph styles, so headings are read from them ("Title",
"Heading N", or a custom style based on one) and never guessed from bold or size. Page headers
and footers are not read: they repeat on every page and are not part of what the document
says. Tables become rows; a cell merged across columns or down rows is read once, and a first
row of short labels is the table's header.

No date is taken from the file's properties: python-docx's own template stamps 2013 on every
file it creates, and Word copies them from whatever template a document started as. Ingest
finds the dates the text states ("Issued: …").
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from . import Block, Document, ReadError, row

_HEADING_STYLE = re.compile(r"heading ([1-9])", re.I)


def _heading_level(style: BaseStyle | None) -> int:
    """1-6 for Title / Heading N styles (or styles based on them), 0 for body text."""
    while style is not None:
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 1
        if m := _HEADING_STYLE.fullmatch(name):
            return min(int(m[1]), 6)
        style = style.base_style
    return 0


def _lines(text: str) -> str:
    """Whitespace folded within lines; Word's line breaks kept as "\n"."""
    return "\n".join(line for line in (" ".join(part.split()) for part in text.split("\n")) if line)


def _is_label(text: str) -> bool:
    return len(text.split()) <= 6 and not text.replace(" ", "").isdigit()


def _table(table: Table, line: int) -> list[Block]:
    """One row block per row; each merged cell once, in the row where it starts."""
    rows: list[list[str]] = []
    above: list[_Cell] = []            # the previous row's cells: a vertical merge repeats them
    for tr in table.rows:
        cells = list(tr.cells)
        unique = [c for i, c in enumerate(cells)
                  if all(c._tc is not d._tc for d in cells[:i] + above)]
        rows.append([" ".join(c.text.split()) for c in unique])
        above = cells
    header: list[str] = []
    if len(rows) > 1 and any(rows[0]) and all(_is_label(c) for c in rows[0]):
        header = rows.pop(0)
    return [row(cells, header, line=line) for cells in rows if any(cells)]


def read(path: Path) -> Document:
    if not zipfile.is_zipfile(path):
        raise ReadError("not a Word .docx file")
    try:
        word = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile):
        raise ReadError("not a Word .docx file") from None
    blocks: list[Block] = []
    titled: str | None = None
    item: Paragraph | Table
    for index, item in enumerate(word.iter_inner_content(), start=1):
        if isinstance(item, Table):
            blocks.extend(_table(item, index))
            continue
        text = _lines(item.text)
        if not text:
            continue
        level = _heading_level(item.style)
        if level:
            blocks.append(Block("heading", text.replace("\n", " "), level=level, line=index))
            if titled is None and (item.style.name or "").lower() == "title":
                titled = text.replace("\n", " ")
        else:
            blocks.append(Block("text", text, line=index))
    title = (word.core_properties.title or "").strip() or titled or next(
        (b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    props = word.core_properties
    meta = {name: value.strip() for name in ("title", "subject", "author", "keywords", "category",
                                             "comments", "identifier", "version", "language")
            if isinstance(value := getattr(props, name), str) and value.strip()}
    return Document(structured=True, path=path, blocks=blocks, title=title, meta=meta, date=None)
