"""HTML (`.html`, `.htm`) through selectolax's lexbor parser: the page's main content only.

A saved web page is mostly chrome: menus, site header and footer, cookie banners, scripts.
A person reading the page looks past all of that, so it is removed before anything is read:
what is never shown (scripts, styles, templates, images and their alt text, `hidden`,
`aria-hidden`, `display:none`), then, inside the main content (the largest <main>,
[role=main] or <article>, else <body>), navigation, forms, asides, footers, the site
<header>, cookie/consent banners, and divs whose id or class names them as chrome ("toc",
"breadcrumb", "footer": pages built without landmarks, such as AWS's docs). An element that
holds the main content is never removed, nor one holding an <h1> for an id or class alone.

What is left is read in document order: headings, paragraphs, list items, definition terms,
quotes and captions as text (a div or span with text of its own is a paragraph too), tables
as rows. Link text stays, link targets do not; <br> is a line break; plain <pre> keeps its
lines, code listings are skipped. lexbor does not report source lines, so `line` is 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..dates import parse_date
from . import Block, Document, row
from .decode import decode_bytes

_NEVER_SHOWN = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object",
                "embed", "img", "picture", "video", "audio", "canvas", "map"}
_CHROME = {"nav", "aside", "footer", "form", "button", "input", "select", "textarea", "dialog"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search", "dialog", "alertdialog"}
_BANNER_MARKS = ("cookie", "consent", "gdpr", "onetrust", "banner")
# Whole words of an id or class naming chrome on pages without landmarks (AWS: <div id="toc">).
_CHROME_WORDS = {"nav", "navbar", "navigation", "menu", "toc", "breadcrumb", "breadcrumbs",
                 "sidebar", "footer", "feedback"}
_CONTENT = "main, [role=main], article"
# A <header> inside these heads its own part of the page (often holding the H1), not the site.
_SECTIONING = {"main", "article", "section"}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Elements that start a block of their own; everything else is inline (part of a paragraph).
_BLOCK = {"address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
          "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
          "form", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol",
          "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
          "ul", *_HEADINGS}
_BLOCK_SELECTOR = ", ".join(sorted(_BLOCK))
# <meta> keys that date a page, best first ("last updated" before "published").
DATE_KEYS = ("article:modified_time", "og:updated_time", "last-modified", "dcterms.modified",
             "dc.date.modified", "date", "dc.date", "article:published_time")


def _attr(node: LexborNode, name: str) -> str:
    return (node.attributes.get(name) or "").strip().lower()


def _never_shown(node: LexborNode) -> bool:
    style = _attr(node, "style").replace(" ", "")
    return (node.tag in _NEVER_SHOWN or "hidden" in node.attributes or _attr(node, "aria-hidden") == "true"
            or "display:none" in style or "visibility:hidden" in style)


def _chrome(node: LexborNode) -> bool:
    if node.tag in _CHROME or _attr(node, "role") in _CHROME_ROLES:
        return True
    if node.tag == "header":
        parent = node.parent
        while parent is not None and parent.tag not in _SECTIONING and _attr(parent, "role") != "main":
            parent = parent.parent
        return parent is None
    marks = f"{_attr(node, 'id')} {_attr(node, 'class')}"
    chrome = any(m in marks for m in _BANNER_MARKS) or bool(_CHROME_WORDS & set(re.split(r"[^a-z0-9]+", marks)))
    # A "hero banner" holding the page's H1 is content, not a cookie notice.
    return chrome and node.css_first("h1") is None


def _prune(node: LexborNode, drop: Callable[[LexborNode], bool]) -> None:
    """Remove every descendant `drop` selects, unless it holds the main content."""
    child = node.child
    while child is not None:
        after = child.next
        if child.is_element_node:
            if drop(child) and child.css_first(_CONTENT) is None:
                child.decompose()
            else:
                _prune(child, drop)
        child = after


def _inline(node: LexborNode, pre: bool = False) -> str:
    """Text under `node` (or the text node itself) as shown: only <br> breaks a line, and in
    <pre> the source's own line breaks; elsewhere a newline in the source is a space."""
    return "".join((n.text_content or "" if pre else (n.text_content or "").replace("\n", " "))
                   if n.is_text_node else "\n" if n.tag == "br" else ""
                   for n in node.traverse(include_text=True))


def _fold(text: str) -> str:
    """Whitespace folded within lines; empty lines dropped."""
    return "\n".join(line for line in (" ".join(part.split()) for part in text.split("\n")) if line)


def _table(table: LexborNode, blocks: list[Block]) -> None:
    header: list[str] = []
    first = True
    for part in table.iter():
        if part.tag == "caption" and (caption := _fold(_inline(part))):
            blocks.append(Block("text", caption))
        rows = [part] if part.tag == "tr" else [r for r in part.iter() if r.tag == "tr"]
        for tr in rows:
            cells = [c for c in tr.iter() if c.tag in ("td", "th")]
            texts = [_fold(_inline(c)).replace("\n", " ") for c in cells]
            if part.tag == "thead" or (first and cells and all(c.tag == "th" for c in cells)):
                header = texts
            elif any(texts):
                blocks.append(row(texts, header))
            first = False


def _walk(node: LexborNode, blocks: list[Block]) -> None:
    """Blocks of `node`'s content in document order; loose inline text becomes a paragraph."""
    run: list[str] = []

    def flush() -> None:
        if text := _fold("".join(run)):
            blocks.append(Block("text", text))
        run.clear()

    for child in node.iter(include_text=True):
        tag = child.tag
        if child.is_text_node or child.is_element_node and tag not in _BLOCK \
                and child.css_first(_BLOCK_SELECTOR) is None:
            run.append(_inline(child))
        elif not child.is_element_node:
            continue
        else:
            flush()
            if tag in _HEADINGS:
                if text := _fold(_inline(child).replace("\n", " ")):
                    blocks.append(Block("heading", text, level=_HEADINGS[tag]))
            elif tag == "table":
                _table(child, blocks)
            elif tag == "pre":
                if child.css_first("code") is None and (text := _fold(_inline(child, pre=True))):
                    blocks.append(Block("text", text))
            elif tag != "hr":
                _walk(child, blocks)
    flush()


def _meta(tree: LexborHTMLParser) -> dict[str, str]:
    meta: dict[str, str] = {}
    for node in tree.css("meta[content]"):
        key = _attr(node, "name") or _attr(node, "property") or _attr(node, "http-equiv")
        if key:
            meta.setdefault(key, (node.attributes.get("content") or "").strip())
    canonical = [link.attributes.get("href") or "" for link in tree.css("link[href]")
                 if "canonical" in _attr(link, "rel").split()]
    if url := next((u.strip() for u in canonical if u.strip()), None) or meta.get("og:url"):
        meta["source_url"] = url
    return meta


def read(path: Path) -> Document:
    tree = LexborHTMLParser(decode_bytes(path.read_bytes()))
    if tree.root is not None:
        _prune(tree.root, _never_shown)
    candidates = tree.css(_CONTENT)
    content = max(candidates, key=lambda n: len(n.text()), default=None) or tree.body or tree.root
    blocks: list[Block] = []
    if content is not None:
        _prune(content, _chrome)
        _walk(content, blocks)
    meta = _meta(tree)
    title_node = tree.css_first("head > title")
    page_title = _fold(title_node.text()).replace("\n", " ") if title_node else ""
    h1 = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    title = h1 or page_title or None
    # <title> is often the H1 with its product and site ("Compliance - AWS CloudHSM | AWS");
    # a bare generic H1 ("Compliance") then says less than <title> without the site part.
    product_title = page_title.split(" | ")[0].strip()
    if h1 and product_title != h1 and h1.casefold() in product_title.casefold():
        title = product_title
    date = next((d for key in DATE_KEYS if (d := parse_date(meta.get(key)))), None)
    if date is None and content is not None:
        date = next((d for t in content.css("time[datetime]")
                     if (d := parse_date(t.attributes.get("datetime")))), None)
    return Document(structured=True, path=path, blocks=blocks, title=title, meta=meta, date=date)
