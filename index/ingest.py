"""Documents -> sections, the way a reader sees them.

The seeds are web pages converted to text: a heading line followed by `Last updated : ...`
starts a section, `### ` starts a sub-section, some files have no heading at all, notices and
a table of contents surround the content, lines are sometimes broken mid-sentence, one file's
encoding is broken, and the same section appears in more than one file. Everything here works
from that layout alone; what is particular to a certification comes from `data/`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import ftfy

from .analysis import plain_tokens
from .catalog import Catalog, DataError, DocumentMeta, document_meta, load_yaml

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = (".txt", ".md")

LAST_UPDATED_RE = re.compile(
    r"^\s*last\s+updated\s*[:：]\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$",
    re.IGNORECASE,
)
SUBHEADING_RE = re.compile(r"^\s*#{2,6}\s+(?P<text>\S.*?)\s*#*\s*$")
# "<label> No: <number>" and its obvious variants (No.: / No. / Number: / Nr: / #).
NUMBER_LINE_RE = re.compile(
    r"^\s*(?P<label>.{0,160}?)\s*\b(?:No\.?\s*[:：]|No\.|Nr\.?\s*[:：]|Number\s*[:：]|Num\.?\s*[:：]|#)"
    r"\s*(?P<number>[A-Za-z0-9](?:[A-Za-z0-9./\-]*[A-Za-z0-9])?)\s*(?P<rest>\([^)]*\))?\s*[.;,]?\s*$",
    re.IGNORECASE,
)
SENTENCE_END = ".!?。！？"
TERMINAL = SENTENCE_END + ":;,)\"'”’)]】」"

_FIX_CONFIG = ftfy.TextFixerConfig(
    # Repair mojibake ("f√ºr" -> "für") but keep typography, so quotes stay verbatim.
    uncurl_quotes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
)


# --- data shapes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A paragraph as a reader sees it. kind: text | heading | number."""

    text: str
    kind: str
    line: int


@dataclass(frozen=True)
class NumberLine:
    label: str        # what the number certifies, e.g. "Cloud Object Storage Services"
    number: str       # exactly as stated: "02016", "G01004", "QX-2020-0042"
    text: str         # the whole line, verbatim
    context: str      # the heading above it (for generic labels like "Certificate No")


@dataclass
class Section:
    """One answerable unit: a dated section, a `###` sub-section, or a headless document."""

    source: str
    title: str
    family: str                       # the top-level section title (parts share it)
    blocks: list[Block]
    last_updated: str | None = None
    visibility: str = "public"
    source_url: str | None = None
    certification: str | None = None  # a catalogue name or key, when known
    line: int = 1
    sources: list[str] = field(default_factory=list)
    headed: bool = False              # titled by its own heading line in the document

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)

    def numbers(self, generic_labels: frozenset[str] = frozenset()) -> list[NumberLine]:
        return extract_numbers(self.blocks, self.title, generic_labels)


# --- reading --------------------------------------------------------------------------------


def read_document(path: Path) -> str:
    """Decode a seed file and repair broken encodings; errors name the file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(path, None, f"cannot read: {exc.strerror}") from None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise DataError(path, line, "binary data (NUL byte): seeds must be UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(path, line, f"not UTF-8 text (byte {raw[exc.start]:#04x}); "
                                    "save the file as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return ftfy.fix_text(text, _FIX_CONFIG)


def split_front_matter(text: str, path: Path | str) -> tuple[DocumentMeta | None, str, int]:
    """Separate a leading `---` YAML block. Returns (meta, rest, lines consumed)."""
    if not text.startswith("---\n"):
        return None, text, 0
    lines = text.split("\n")
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            try:
                mapping = load_yaml("\n".join(lines[1:i]), path) or {}
                meta = document_meta(mapping, path, "front matter")
            except DataError as exc:
                # Lines inside the block count from the "---" line: report the file's line.
                raise DataError(path, exc.line + 1 if exc.line else 1, exc.message) from None
            return meta, "\n".join(lines[i + 1:]), i + 1
    raise DataError(path, 1, "front matter starts with '---' but has no closing '---' line")


@dataclass
class _Para:
    text: str
    line: int


def _paragraphs(text: str, first_line: int) -> list[_Para]:
    """Blank-line separated paragraphs (whitespace-only lines count as blank)."""
    paras: list[_Para] = []
    current: list[str] = []
    start = first_line
    for offset, line in enumerate(text.split("\n")):
        if line.strip():
            if not current:
                start = first_line + offset
            current.append(line.strip())
        elif current:
            paras.append(_Para("\n".join(current), start))
            current = []
    if current:
        paras.append(_Para("\n".join(current), start))
    return paras


def _date(para: _Para) -> str | None:
    m = LAST_UPDATED_RE.match(para.text)
    if not m:
        return None
    year, month, day = (int(g) for g in m.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _heading_date(paras: list[_Para], i: int) -> str | None:
    """The date of the section that paragraph i heads: a single short line that is followed
    by `Last updated : ...`. None when paragraph i is not a section heading."""
    if i + 1 >= len(paras) or _date(paras[i]) or "\n" in paras[i].text or len(paras[i].text.split()) > 30:
        return None
    return _date(paras[i + 1])


def _number_match(line: str) -> re.Match[str] | None:
    """A certificate-number line; the number must hold a digit ("No: Yes" is not one)."""
    m = NUMBER_LINE_RE.match(line)
    return m if m and any(c.isdigit() for c in m["number"]) else None


def _is_heading_like(text: str) -> bool:
    """A short single line without sentence punctuation at its end: a title."""
    if "\n" in text or len(text.split()) > 15:
        return False
    return not text.rstrip().endswith(tuple(".;:,")) and not _number_match(text)


def _norm(text: str) -> str:
    return " ".join(plain_tokens(text))


# --- boilerplate ----------------------------------------------------------------------------


def _drop_boilerplate(paras: list[_Para], headings: set[int], catalog: Catalog) -> list[_Para]:
    """Remove notice blocks, the table of contents, repeated page headers, disclaimers."""
    vocab = catalog.vocabulary
    block_names = {_norm(h) for h in vocab.block_headings}
    norms = [_norm(p.text) for p in paras]
    counts = Counter(norms)
    kept: list[_Para] = []
    in_block = False
    for i, (p, norm) in enumerate(zip(paras, norms)):
        if i in headings or SUBHEADING_RE.match(p.text):
            in_block = False
        if norm in block_names and i not in headings:
            in_block = True
            continue
        if in_block:
            continue
        if any(rx.search(p.text) for rx in vocab.boilerplate):
            continue
        # The same short line three or more times: a running page header, not content.
        if counts[norm] >= 3 and i not in headings and len(p.text.split()) <= 8 \
                and not _number_match(p.text):
            continue
        kept.append(p)
    return kept


# --- structure ------------------------------------------------------------------------------


def _rejoin(paras: list[_Para]) -> list[_Para]:
    """Re-join a sentence that the PDF conversion broke across paragraphs."""
    out: list[_Para] = []
    for p in paras:
        prev = out[-1] if out else None
        if (prev is not None and p.text[:1].islower()
                and not prev.text.rstrip().endswith(tuple(TERMINAL))
                and not SUBHEADING_RE.match(prev.text) and len(prev.text.split()) > 15):
            out[-1] = _Para(prev.text + " " + p.text, prev.line)
        else:
            out.append(p)
    return out


def _blocks(paras: list[_Para]) -> list[Block]:
    blocks = []
    for p in paras:
        sub = SUBHEADING_RE.match(p.text)
        if sub:
            blocks.append(Block(sub.group("text"), "heading", p.line))
        elif all(_number_match(line) for line in p.text.split("\n")):
            blocks.append(Block(p.text, "number", p.line))
        elif _is_heading_like(p.text):
            blocks.append(Block(p.text, "heading", p.line))
        else:
            blocks.append(Block(p.text, "text", p.line))
    return blocks


def _split_parts(title: str, paras: list[_Para]) -> list[tuple[str, list[_Para], int]]:
    """Split at `###` sub-headings: (title, paragraphs, line) for the intro and each part."""
    parts: list[tuple[str, list[_Para], int]] = [(title, [], paras[0].line if paras else 1)]
    for p in paras:
        sub = SUBHEADING_RE.match(p.text)
        if sub:
            parts.append((sub.group("text"), [], p.line))
        else:
            parts[-1][1].append(p)
    return [part for part in parts if part[1]]


def _derive_title(paras: list[_Para], catalog: Catalog) -> str:
    """Name a document that has no heading and no metadata from its own content."""
    text = " ".join(p.text for p in paras)
    tokens = plain_tokens(text)
    joined = " " + " ".join(tokens) + " "
    best, best_count = None, 1
    for cert in catalog.certifications:
        count = sum(joined.count(" " + " ".join(plain_tokens(n)) + " ") for n in cert.names if plain_tokens(n))
        if count > best_count:
            best, best_count = cert, count
    if best is not None:
        return best.titles[0] if best.titles else best.name
    for p in paras:
        sub = SUBHEADING_RE.match(p.text)
        if sub:
            return sub.group("text")
    words = paras[0].text.split() if paras else ["Untitled"]
    return " ".join(words[:8]) + (" …" if len(words) > 8 else "")


def parse_document(path: Path, catalog: Catalog) -> list[Section]:
    """Split one seed file into sections."""
    name = path.name
    text = read_document(path)
    front, body, consumed = split_front_matter(text, path)
    listed = catalog.documents.get(name, DocumentMeta())
    meta = DocumentMeta(
        title=(front and front.title) or listed.title,
        visibility=(front and front.visibility) or listed.visibility or "public",
        source_url=(front and front.source_url) or listed.source_url,
        certification=(front and front.certification) or listed.certification,
    )
    paras = _paragraphs(body, consumed + 1)
    headings = {i for i in range(len(paras)) if _heading_date(paras, i)}
    paras = _drop_boilerplate(paras, headings, catalog)
    # Indices changed with the boilerplate gone: find the headings again.
    sections_raw: list[tuple[str, str | None, list[_Para], int]] = []
    preamble: list[_Para] = []
    i = 0
    while i < len(paras):
        date = _heading_date(paras, i)
        if date:
            sections_raw.append((paras[i].text, date, [], paras[i].line))
            i += 2
            continue
        (sections_raw[-1][2] if sections_raw else preamble).append(paras[i])
        i += 1

    if not sections_raw:
        # A document without headings is one section, named by metadata or its content.
        content = [p for p in preamble if not _date(p)]
        if not content:
            return []
        title = meta.title or _derive_title(content, catalog)
        sections_raw = [(title, None, content, content[0].line)]
    else:
        # Prose before the first heading (not notices or contents) is kept as an introduction.
        intro = [p for p in preamble if not _is_heading_like(p.text)]
        if intro:
            title = meta.title or _derive_title(intro, catalog)
            sections_raw.insert(0, (title, None, intro, intro[0].line))

    sections: list[Section] = []
    for family, date, body_paras, line in sections_raw:
        # A heading repeated as the first line of its own body (e.g. "HIPAA") is noise.
        while body_paras and _norm(body_paras[0].text) == _norm(family):
            body_paras = body_paras[1:]
        for title, part, part_line in _split_parts(family, _rejoin(body_paras)):
            blocks = _blocks(part)
            if not any(b.kind != "heading" for b in blocks):
                continue
            sections.append(Section(
                source=name, title=title, family=family, blocks=blocks, last_updated=date,
                visibility=meta.visibility or "public", source_url=meta.source_url,
                certification=meta.certification, line=part_line, sources=[name],
                headed=date is not None,
            ))
    return sections


# --- certificate numbers --------------------------------------------------------------------


def extract_numbers(blocks: list[Block], title: str, generic_labels: frozenset[str]) -> list[NumberLine]:
    """Every "<label> No: <number>" line, labelled by the heading above when the label is generic."""
    numbers: list[NumberLine] = []
    context = title
    for block in blocks:
        if block.kind == "heading":
            context = block.text
            continue
        if block.kind != "number":
            continue
        for line in block.text.split("\n"):
            m = _number_match(line)
            if not m:
                continue
            raw = m["label"].strip(" :-–—\t")
            specific = [w for w in plain_tokens(raw) if w not in generic_labels]
            label = raw if specific else (f"{context} — {raw}" if raw else context)
            numbers.append(NumberLine(label=label, number=m["number"], text=line.strip(), context=context))
    return numbers


# --- the whole corpus -----------------------------------------------------------------------


def document_files(seeds_dir: Path) -> list[Path]:
    if not seeds_dir.is_dir():
        raise DataError(seeds_dir, None, "seeds directory not found (set CERTDESK_SEEDS_DIR)")
    files = []
    for path in sorted(seeds_dir.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(seeds_dir).parts):
            continue
        if path.suffix.lower() in DOCUMENT_SUFFIXES:
            files.append(path)
        else:
            log.warning("skipping %s: only %s files are documents", path, ", ".join(DOCUMENT_SUFFIXES))
    return files


def _shingles(text: str, size: int = 4) -> set[tuple[str, ...]]:
    tokens = plain_tokens(text)
    return {tuple(tokens[i:i + size]) for i in range(max(0, len(tokens) - size + 1))}


def _same_section(a: Section, b: Section, containment: float, threshold: float) -> bool:
    """Most 4-grams shared, same audience; two different headings need near-identical text.

    Sections written from one template (the Thailand and Philippines audits share 0.67 of
    their 4-grams) are different sections: their headings say so.
    """
    if a.visibility != b.visibility:
        return False
    if a.headed and b.headed and _norm(a.family) != _norm(b.family):
        return containment >= 0.85
    return containment >= threshold


def merge_duplicates(sections: list[Section], threshold: float = 0.6) -> list[Section]:
    """Collapse the same section appearing in several files into one, remembering all sources.

    Two sections are the same when most word 4-grams of the smaller one occur in the larger
    one (small edits between versions keep most 4-grams: 0.79 for the two C5 pages). Within a
    group, the newest version is quoted (then the longest), unless it is a fragment of a much
    longer version.
    """
    shingles = [_shingles(s.text) for s in sections]
    parent = list(range(len(sections)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    postings: dict[tuple[str, ...], list[int]] = {}
    for i, grams in enumerate(shingles):
        for g in grams:
            postings.setdefault(g, []).append(i)
    shared: dict[tuple[int, int], int] = {}
    for ids in postings.values():
        if len(ids) > 50:      # a phrase in everything says nothing about duplication
            continue
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                shared[(ids[a], ids[b])] = shared.get((ids[a], ids[b]), 0) + 1
    for (a, b), count in shared.items():
        smaller = min(len(shingles[a]), len(shingles[b]))
        if smaller >= 5 and _same_section(sections[a], sections[b], count / smaller, threshold):
            parent[find(a)] = find(b)

    groups: dict[int, list[int]] = {}
    for i in range(len(sections)):
        groups.setdefault(find(i), []).append(i)
    merged: list[Section] = []
    for ids in sorted(groups.values(), key=min):
        members = [sections[i] for i in ids]
        longest = max(len(m.text) for m in members)
        candidates = [m for m in members if len(m.text) >= 0.5 * longest]
        primary = max(candidates, key=lambda m: (m.last_updated or "", len(m.text)))
        sources = [primary.source] + [m.source for m in members if m.source != primary.source]
        cert = primary.certification or next((m.certification for m in members if m.certification), None)
        merged.append(replace(primary, sources=list(dict.fromkeys(sources)), certification=cert))
    return merged


def load_sections(seeds_dir: Path, catalog: Catalog) -> list[Section]:
    """Every section of every seed document, duplicates merged."""
    sections: list[Section] = []
    for path in document_files(seeds_dir):
        found = parse_document(path, catalog)
        if not found:
            log.warning("%s: no content found", path)
        sections.extend(found)
    return merge_duplicates(sections)
