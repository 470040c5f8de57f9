"""One reader per document format, all yielding the same plain `Document`.

Every reader is a thin layer over a parser made for its format (markdown-it-py, selectolax,
pypdf, python-docx). What they share is written once, after them, in `index/ingest.py`:
sectioning by headings, dates, certificate numbers, boilerplate and de-duplication. So a
reader only answers "what does a person reading this file see, in which order, under which
headings", and never decides what a section or a certificate is.

A reader raises `ReadError` with a reason a person can act on ("encrypted PDF", "no text
layer: scanned image?") when a file cannot be read; the build then skips that one file with
a warning instead of failing the whole corpus.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ReadError(Exception):
    """This file cannot be read as a document; the message says why, not where."""


@dataclass(frozen=True)
class Block:
    """One unit of what a reader sees, in document order.

    kind:
      heading  a structural heading (markdown `#`, HTML <h1>-<h6>, a Word "Heading N" style,
               a seed-style heading line); `level` 1-6 says how it nests.
      text     a paragraph, list item or caption: visible text only (no markup, link text
               without its target). Lines that the source breaks stay "\n"-separated.
      row      one table row: `cells` hold each cell's visible text, `header` the table's
               header cells (empty when the table has none), `text` the cells joined by " · ".
    """

    kind: str
    text: str
    level: int = 0
    line: int = 0                      # 1-based line (text formats) or page (PDF)
    cells: tuple[str, ...] = ()
    header: tuple[str, ...] = ()


ROW_SEPARATOR = " · "


def row(cells: list[str] | tuple[str, ...], header: list[str] | tuple[str, ...] = (), line: int = 0) -> Block:
    """A table row block: its cells' text in order, joined the one way every reader uses."""
    cells = tuple(" ".join(c.split()) for c in cells)
    return Block("row", ROW_SEPARATOR.join(c for c in cells if c), line=line, cells=cells,
                 header=tuple(" ".join(h.split()) for h in header))


@dataclass
class Document:
    """What one file says, before sectioning.

    title: the document's own title, found the way its format states one, in this order:
           front matter `title`, the first level-1 heading, HTML <title>, PDF or Word metadata.
           None when the file states none (ingest then uses its first heading or its content).
    meta:  every metadata key the file carries (front matter, <meta> tags, PDF info), as
           plain values; ingest picks the few it understands and ignores the rest.
    date:  the document-level "last updated" date as YYYY-MM-DD, only when the file states
           one (front matter date, <meta>/<time>, PDF metadata); never guessed.
    valid_until, review_by: the same, from front matter keys (frontmatter.VALID_UNTIL_KEYS,
           REVIEW_BY_KEYS) only: an HTML <meta http-equiv="expires"> is about caching, not
           a certificate. Statements in the text ("Valid until: …") are read by ingest.
    """

    path: Path
    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    date: str | None = None
    valid_until: str | None = None
    review_by: str | None = None
    # The format marks its structure (markdown, HTML, Word): a short line is a list item or
    # a cell, never a guessed title. Plain text and PDF leave structure to be guessed.
    structured: bool = False


Reader = Callable[[Path], Document]


# Suffix -> reader module. Modules are imported on first use, so reading text files never
# pays for the PDF or Word parser, and the search side never imports any of them.
_MODULES = {
    ".txt": "text",
    ".md": "markdown", ".markdown": "markdown",
    ".html": "html", ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUFFIXES = tuple(_MODULES)


def reader_for(path: Path) -> Reader | None:
    module = _MODULES.get(path.suffix.lower())
    return importlib.import_module(f"{__name__}.{module}").read if module else None


def read(path: Path) -> Document:
    """Read one file with the reader for its suffix; ReadError when it cannot be read."""
    reader = reader_for(path)
    if reader is None:
        raise ReadError(f"unknown file type {path.suffix or '(none)'}: documents are {', '.join(SUFFIXES)}")
    try:
        return reader(path)
    except ReadError:
        raise
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    except Exception as exc:   # a parser's own failure on a broken file: skip it, say why
        raise ReadError(f"cannot parse: {type(exc).__name__}: {exc}") from None
