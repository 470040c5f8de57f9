"""Markdown (`.md`, `.markdown`) through markdown-it-py: CommonMark plus GFM tables.

The parser decides what is a heading, a paragraph, a list item or a table row, so a line that
is only a link, an image, an HTML comment or an include directive is never mistaken for a
heading. What is kept is what a reader of the rendered page sees: link text without its
target, no emphasis markers, no images, table rows as their cells' text.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from . import Block, Document, row
from . import frontmatter
from .decode import read_text

# Lines that docs-site generators replace at build time and a reader never sees:
# `[!INCLUDE [name](file.md)]` (already reduced to its link text here), `:::note` fences,
# Hugo/Jekyll shortcodes `{{< … >}}` / `{% … %}`.
_DIRECTIVE_LINE = re.compile(r"^\s*(?:\[!include\b.*\]|:::.*|\{\{[<%].*[%>]\}\}|\{%.*%\})\s*$", re.I)
# An admonition marker at the start of a quote: `> [!NOTE]`.
_ADMONITION = re.compile(r"^\s*\[!(?:note|tip|important|warning|caution)\]\s*", re.I)

_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")


def _inline_text(token: Token) -> str:
    """The visible text of an inline token: words and link text; no markup, no images."""
    out: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append("\n")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "html_inline" and child.content.lower().startswith("<br"):
            out.append("\n")
        # link_open/close, strong, em, s, image, other inline HTML: no visible words of their own
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    lines = [_ADMONITION.sub("", line) for line in lines if not _DIRECTIVE_LINE.match(line)]
    return "\n".join(line for line in lines if line)


def _html_text(html: str) -> str:
    """Visible text of an HTML block inside markdown; comments and scripts are not text."""
    if html.lstrip().startswith("<!--"):
        return ""
    tree = HTMLParser(html)
    for node in tree.css("script, style"):
        node.decompose()
    root = tree.body or tree.root
    return " ".join((root.text(separator=" ") if root else "").split())


def blocks_of(text: str, first_line: int = 1) -> list[Block]:
    """Markdown source -> blocks in document order."""
    tokens = _PARSER.parse(text)
    blocks: list[Block] = []
    header: list[str] = []
    cells: list[str] = []
    in_head = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        line = first_line + (tok.map[0] if tok.map else 0)
        if tok.type == "heading_open":
            words = _inline_text(tokens[i + 1]).replace("\n", " ")
            if words:
                blocks.append(Block("heading", words, level=int(tok.tag[1]), line=line))
            i += 3
            continue
        if tok.type == "paragraph_open":
            words = _inline_text(tokens[i + 1])
            if words:
                blocks.append(Block("text", words, line=line))
            i += 3
            continue
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            cells = []
            row_line = line
        elif tok.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            cells.append(_inline_text(tok).replace("\n", " "))
        elif tok.type == "tr_close":
            if in_head:
                header = cells
            elif any(cells):
                blocks.append(row(cells, header, line=row_line))
        elif tok.type == "table_close":
            header = []
        elif tok.type == "html_block":
            words = _html_text(tok.content)
            if words:
                blocks.append(Block("text", words, line=line))
        # fences and code blocks are not prose; list and quote wrappers hold paragraphs.
        i += 1
    return blocks


def read(path: Path) -> Document:
    meta, body, consumed = frontmatter.split(read_text(path), str(path))
    blocks = blocks_of(body, consumed + 1)
    title = frontmatter.title_of(meta) or next(
        (b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    valid_until, review_by = frontmatter.validity_of(meta, str(path))
    return Document(structured=True, path=path, blocks=blocks, title=title, meta=meta, date=frontmatter.date_of(meta),
                    valid_until=valid_until, review_by=review_by)
