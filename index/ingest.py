"""Documents -> sections, the way a reader sees them, written once for every format.

The readers (`index/readers/`) turn each file into the same plain blocks: headings with their
level, paragraphs, table rows. Everything after that is here: which blocks are notices or a
table of contents, where a section starts and what its heading path is, which date it
carries, which lines and table cells state certificate numbers, and which sections are the
same text saved twice. Nothing here knows a file format, and nothing is particular to a
certification: that comes from `data/`.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .analysis import plain_tokens
from .catalog import VISIBILITIES, Catalog, DocumentMeta
from .dates import date_at_start, parse_date
from .passages import split_sentences
from .store import document_files
from .readers import ROW_SEPARATOR, Block, Document, ReadError, read

log = logging.getLogger(__name__)


# A page's own "last updated" stamp: chrome, not content, so it dates the section and is not quoted.
LAST_UPDATED_RE = re.compile(r"^\s*last\s+(?:updated|modified|revised)\s*(?:on)?\s*[:：]?\s*(?P<date>.+)$",
                             re.IGNORECASE)
# Lines that date a whole document (a certificate's issue date, a letter's date); kept as text.
DOC_DATE_RE = re.compile(
    r"^\s*(?:date(?:\s+of\s+issue)?|issued(?:\s+on)?|issue\s+date|effective\s+date|updated|published)"
    r"\s*[:：]\s*(?P<date>.+)$", re.IGNORECASE)
# A document's own word on how long its certificate holds ("Valid until: 1 March 2025",
# "Expiry date 2025-03-01", "valid through March 1, 2025", "Expires: …"), and on when it is
# due for review ("Next review: …"; not "Review date", which may name the last one). The
# date must follow the cue: "valid until withdrawn; issued 2020-01-01" states no end. Kept
# as text: a quoted validity line is worth reading.
VALID_UNTIL_CUE_RE = re.compile(
    r"\b(?:valid\s+(?:until|through|thru|till|to)|(?:date\s+of\s+)?expir(?:y|ation)(?:\s+date)?"
    r"|expires(?:\s+on)?)\s*[:：]?\s*", re.IGNORECASE)
REVIEW_BY_CUE_RE = re.compile(
    r"\b(?:review(?:ed)?\s+by|next\s+review(?:\s+date)?|review\s+due(?:\s+date)?)\s*[:：]?\s*",
    re.IGNORECASE)
# Where a curated date came from, for `certdesk report stale`.
DOCUMENTS_YAML = "data/documents.yaml"
# A certificate number as documents print them: "02016", "G01004", "QX-2020-0042", "IS 552878".
NUMBER_VALUE = r"(?:[A-Z]{1,5} )?[A-Za-z0-9](?:[A-Za-z0-9./\-]*[A-Za-z0-9])?"
# "<label> No: <number>" and its variants (No.: / No. / Number: / Nr: / ID: / #).
NUMBER_LINE_RE = re.compile(
    r"^\s*(?P<label>.{0,160}?)\s*\b(?:No\.?\s*[:：]|No\.|Nr\.?\s*[:：]|Number\s*[:：]|Num\.?\s*[:：]|ID\s*[:：]|#)"
    rf"\s*(?P<number>{NUMBER_VALUE})\s*(?P<rest>\([^)]*\))?\s*[.;,]?\s*$",
    re.IGNORECASE,
)
# A table header or row label that names a certificate-number column: "Certificate number",
# "Registration No.", "Cert. ID", "Certificate #".
NUMBER_LABEL_RE = re.compile(
    r"^\s*(?:[\w.]+\s+){0,3}?(?:certificate|cert\.?|registration|licen[cs]e|attestation|report|serial)"
    r"\s*(?:no\.?|nr\.?|number|num\.?|id|#)\s*[:：]?\s*$", re.IGNORECASE)
NUMBER_VALUE_RE = re.compile(rf"^\s*(?P<number>{NUMBER_VALUE})\s*$")
# A number stated inside a sentence: "validated (Certificate #4218)", "certificate number IS 552878",
# "Unique Certification Number 15.04.04.3147.Medp.03.01.1.240731".
PROSE_NUMBER_RE = re.compile(
    r"\b(?:[Cc]ertificat(?:e|ion)|[Cc]ert\.|[Rr]egistration|[Ll]icen[cs]e)\s*(?:[Nn]o\.?|[Nn]umber|#|ID)\s*[:：]?\s*"
    rf"(?P<number>{NUMBER_VALUE})")
TERMINAL = ".!?。！？:;,)\"'”’)]】」"


# --- data shapes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberLine:
    label: str        # what the number certifies, e.g. "Cloud Object Storage Services"
    number: str       # exactly as stated: "02016", "G01004", "QX-2020-0042", "IS 552878"
    text: str         # the line or table row, as quoted
    context: str      # the heading above it (for generic labels like "Certificate No")


@dataclass
class Section:
    """One answerable unit: the text under one heading, with the path of headings above it.

    blocks are readers.Block with kind text | heading (a short title-like line inside the
    section) | number (certificate-number lines) | row (a table row).
    """

    source: str                        # path relative to the seeds directory
    path: tuple[str, ...]              # document title (if any) › headings › this heading
    blocks: list[Block]
    last_updated: str | None = None
    visibility: str = "public"
    source_url: str | None = None
    certification: str | None = None   # named by front matter or data/documents.yaml
    doc_title: str | None = None
    line: int = 1
    sources: list[str] = field(default_factory=list)
    headed: bool = False               # titled by headings of the document, not derived
    # Until when the certificate holds, and when the page is due for review (YYYY-MM-DD),
    # each with the file that says so (the source, or data/documents.yaml).
    valid_until: str | None = None
    valid_until_from: str | None = None
    review_by: str | None = None
    review_by_from: str | None = None

    @property
    def title(self) -> str:
        """This section's own heading."""
        return self.path[-1]

    @property
    def family(self) -> str:
        """The top of the path: the document's title, or its top-level section heading."""
        return self.path[0]

    @property
    def display_title(self) -> str:
        return " › ".join(self.path)

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)

    def numbers(self, generic_labels: frozenset[str] = frozenset()) -> list[NumberLine]:
        return extract_numbers(self.blocks, self.title, generic_labels)


@dataclass
class Skipped:
    """A file that could not be indexed, and why: one warning line each."""

    source: str
    reason: str


# --- metadata -------------------------------------------------------------------------------


def _meta_text(meta: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            return " ".join(str(value).split())
    return None


def document_meta(doc: Document, listed: DocumentMeta, where: str) -> DocumentMeta:
    """What certdesk uses of a file's own metadata, with data/documents.yaml filling gaps.

    Any other key is ignored. An unknown visibility is read as "internal": a typo must never
    show a restricted page in a shared channel.
    """
    visibility = _meta_text(doc.meta, "visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        log.warning("%s: visibility %r is not one of %s; treating the page as internal",
                    where, visibility, ", ".join(VISIBILITIES))
        visibility = "internal"
    return DocumentMeta(
        title=(doc.title if _meta_text(doc.meta, "title") else None) or listed.title or doc.title,
        visibility=visibility or listed.visibility or "public",
        source_url=_meta_text(doc.meta, "source_url") or listed.source_url,
        certification=_meta_text(doc.meta, "certification") or listed.certification,
        # Only the curated dates: the file's own (front matter, text) are weighed in sections_of.
        valid_until=listed.valid_until,
        review_by=listed.review_by,
    )


# --- block-level judgements -----------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(plain_tokens(text))


def _number_match(line: str) -> re.Match[str] | None:
    """A certificate-number line; the number must hold a digit ("No: Yes" is not one)."""
    m = NUMBER_LINE_RE.match(line)
    return m if m and any(c.isdigit() for c in m["number"]) else None


def _is_heading_like(text: str) -> bool:
    """A short single line without sentence punctuation at its end: a title."""
    if "\n" in text or len(text.split()) > 15:
        return False
    return not text.rstrip().endswith(tuple(".;:,")) and not _number_match(text)


def _last_updated(block: Block) -> str | None:
    if block.kind != "text" or "\n" in block.text:
        return None
    m = LAST_UPDATED_RE.match(block.text)
    return parse_date(m["date"]) if m else None


def _stated_date(block: Block) -> str | None:
    """A "Date: …" / "Issued: …" line in a text block: the date the document states."""
    if block.kind != "text":
        return None
    for line in block.text.split("\n"):
        m = DOC_DATE_RE.match(line) or LAST_UPDATED_RE.match(line)
        date = parse_date(m["date"]) if m else None
        if date:
            return date
    return None


def stated_date(blocks: list[Block], cue: re.Pattern[str]) -> str | None:
    """The first date a cue introduces in these blocks' text or table rows
    ("Valid until: 1 March 2025"; a row "Valid until · 2025-03-01"), or None."""
    for b in blocks:
        if b.kind == "text":
            text = " ".join(b.text.split())          # a PDF breaks lines mid-sentence
        elif b.kind == "row":
            text = " ".join(c for c in b.cells if c)
        else:
            continue
        for m in cue.finditer(text):
            date = date_at_start(text[m.end():])
            if date:
                return date
    return None


def _validity(sections: list[Section], own: list[tuple[str | None, str | None]], meta: DocumentMeta,
              doc: Document, source: str) -> None:
    """Give each section its valid-until and review-by dates, with where each was stated.

    Curated data/documents.yaml first (the compliance team's correction of a file); then the
    section's own statement; then one elsewhere under the same top heading (a certificate's
    "Valid until" line dates its scope and annex too, and the whole document when it has a
    title, but not the next certification on a page listing several); then front matter."""
    for kind, index, listed, front in (("valid_until", 0, meta.valid_until, doc.valid_until),
                                       ("review_by", 1, meta.review_by, doc.review_by)):
        by_family: dict[str, str] = {}
        for section, stated in zip(sections, own):
            if stated[index]:
                by_family.setdefault(_norm(section.family), stated[index])
        for section, stated in zip(sections, own):
            date = stated[index] or by_family.get(_norm(section.family)) or front
            origin = source if date else None
            if listed:
                date, origin = listed, DOCUMENTS_YAML
            setattr(section, kind, date)
            setattr(section, f"{kind}_from", origin)


# --- boilerplate ----------------------------------------------------------------------------


def drop_boilerplate(blocks: list[Block], catalog: Catalog) -> list[Block]:
    """Remove notice blocks, the table of contents, repeated page headers, disclaimers.

    A notice heading ("Copyright Notice", "Contents") drops what follows it up to the next
    structural heading; a short line repeated three or more times is a running header.
    """
    vocab = catalog.vocabulary
    block_names = {_norm(h) for h in vocab.block_headings}
    counts = Counter(_norm(b.text) for b in blocks if b.kind == "text")
    kept: list[Block] = []
    in_block = False
    for b in blocks:
        norm = _norm(b.text)
        if b.kind == "heading":
            in_block = norm in block_names
            if not in_block:
                kept.append(b)
            continue
        if b.kind == "text" and norm in block_names:
            in_block = True
            continue
        if in_block:
            continue
        if b.kind == "text" and any(rx.search(b.text) for rx in vocab.boilerplate):
            continue
        if (b.kind == "text" and counts[norm] >= 3 and len(b.text.split()) <= 8
                and not _number_match(b.text)):
            continue
        kept.append(b)
    return kept


# --- structure ------------------------------------------------------------------------------


def _rejoin(blocks: list[Block]) -> list[Block]:
    """Re-join a sentence that a PDF conversion broke across paragraphs."""
    out: list[Block] = []
    for b in blocks:
        prev = out[-1] if out else None
        if (prev is not None and b.kind == prev.kind == "text" and b.text[:1].islower()
                and not prev.text.rstrip().endswith(tuple(TERMINAL)) and len(prev.text.split()) > 15):
            out[-1] = replace(prev, text=prev.text + " " + b.text)
        else:
            out.append(b)
    return out


def with_header_rows(blocks: list[Block]) -> list[Block]:
    """Blocks with each table's header row as a block of its own (kind "header"), before the
    table's rows: visible text, searchable and quotable with the row it heads."""
    out: list[Block] = []
    header: tuple[str, ...] = ()
    for b in blocks:
        if b.kind == "row" and b.header and b.header != header:
            out.append(Block("header", ROW_SEPARATOR.join(c for c in b.header if c), line=b.line,
                             cells=b.header))
        header = b.header if b.kind == "row" else ()
        out.append(b)
    return out


def _classify(blocks: list[Block], guess_titles: bool = True) -> list[Block]:
    """Text blocks -> runs of certificate-number lines, title-like lines, and prose.

    A table's header row is visible text too: it becomes a row of its own before the table's
    first row, so a question about a column ("IL4", "FedRAMP High") finds the table.
    """
    out: list[Block] = []
    for b in with_header_rows(blocks):
        if b.kind != "text":
            out.append(b)
            continue
        lines = b.text.split("\n")
        run: list[str] = []
        run_is_number = False

        def flush() -> None:
            if not run:
                return
            text = "\n".join(run)
            kind = "number" if run_is_number else (
                "heading" if guess_titles and _is_heading_like(text) else "text")
            out.append(Block(kind, text, line=b.line))

        for line in lines:
            is_number = bool(_number_match(line))
            if run and is_number != run_is_number:
                flush()
                run = []
            run.append(line)
            run_is_number = is_number
        flush()
    return out


def _derive_title(blocks: list[Block], catalog: Catalog) -> str:
    """Name a document that has no heading and no metadata from its own content."""
    text = " ".join(b.text for b in blocks)
    joined = " " + " ".join(plain_tokens(text)) + " "
    best, best_count = None, 1
    for cert in catalog.certifications:
        count = sum(joined.count(" " + " ".join(plain_tokens(n)) + " ") for n in cert.names if plain_tokens(n))
        if count > best_count:
            best, best_count = cert, count
    if best is not None:
        return best.titles[0] if best.titles else best.name
    words = blocks[0].text.split() if blocks else ["Untitled"]
    return " ".join(words[:8]) + (" …" if len(words) > 8 else "")


@dataclass
class _Open:
    """The section being collected while walking a document's blocks."""

    headings: list[tuple[int, str, str | None]]    # (level, heading, date stated under it)
    blocks: list[Block]
    line: int


def _title_heading(doc: Document, title: str | None) -> Block | None:
    """The level-1 heading that is the document's title: the only level-1 heading, first."""
    level1 = [b for b in doc.blocks if b.kind == "heading" and b.level == 1]
    first = next((b for b in doc.blocks if b.kind == "heading"), None)
    if len(level1) == 1 and first is level1[0] and (title is None or doc.title == first.text
                                                    or _norm(first.text) in _norm(title)
                                                    or _norm(title) in _norm(first.text)):
        return first
    return None


def sections_of(doc: Document, source: str, listed: DocumentMeta, catalog: Catalog) -> list[Section]:
    """One document -> its sections, each with its heading path and date."""
    meta = document_meta(doc, listed, source)
    blocks = drop_boilerplate(doc.blocks, catalog)
    title_block = _title_heading(Document(doc.path, blocks), meta.title)
    title = meta.title or (title_block.text if title_block else None)
    if title is None and blocks and not any(b.kind == "heading" for b in blocks) \
            and blocks[0].kind == "text" and _is_heading_like(blocks[0].text) and len(blocks) > 1:
        # A page without headings that opens with a title-like line: that line is its title.
        title, blocks = blocks[0].text, blocks[1:]
    doc_date = next((d for d in map(_stated_date, blocks) if d), None) or doc.date

    raw: list[_Open] = []
    current = _Open([], [], blocks[0].line if blocks else 1)
    for b in blocks:
        if b is title_block:
            continue
        if b.kind == "heading":
            raw.append(current)
            stack = [h for h in current.headings if h[0] < b.level]
            current = _Open(stack + [(b.level, b.text, None)], [], b.line)
            continue
        date = _last_updated(b)
        if date and not current.blocks:
            # "Last updated : …" straight under a heading dates it and everything under it.
            if current.headings:
                level, text, _ = current.headings[-1]
                current.headings[-1] = (level, text, date)
            else:
                doc_date = date
            continue
        current.blocks.append(b)
    raw.append(current)

    sections: list[Section] = []
    own: list[tuple[str | None, str | None]] = []   # each section's own validity statements
    for part in raw:
        content = _classify(_rejoin(part.blocks), guess_titles=not doc.structured)
        heads = [h[1] for h in part.headings]
        # A heading repeated as the first line of its own body (e.g. "HIPAA") is noise.
        while content and heads and _norm(content[0].text) == _norm(heads[-1]):
            content = content[1:]
        if not any(b.kind in ("text", "number", "row", "header") for b in content):
            continue
        if not heads and not title and len(raw) > 1 and not any(
                b.kind in ("row", "header") or (b.kind == "text" and not _is_heading_like(b.text)) for b in content):
            continue       # stray lines before the first heading of a titleless page
        path = tuple(([title] if title else []) + heads) or (_derive_title(content, catalog),)
        date = next((h[2] for h in reversed(part.headings) if h[2]), None) or doc_date
        sections.append(Section(
            source=source, path=path, blocks=content, last_updated=date,
            visibility=meta.visibility or "public", source_url=meta.source_url,
            certification=meta.certification, doc_title=title, line=part.line,
            sources=[source], headed=bool(heads or title),
        ))
        own.append((stated_date(part.blocks, VALID_UNTIL_CUE_RE), stated_date(part.blocks, REVIEW_BY_CUE_RE)))
    _validity(sections, own, meta, doc, source)
    return sections


# --- certificate numbers --------------------------------------------------------------------


def _label(raw: str, context: str, generic_labels: frozenset[str]) -> str:
    """A number's label; a generic one ("Certificate No") takes the heading above it."""
    raw = raw.strip(" :-–—\t")
    specific = [w for w in plain_tokens(raw) if w not in generic_labels]
    return raw if specific else (f"{context} — {raw}" if raw else context)


def _cell_number(cell: str) -> str | None:
    """The certificate number a table cell holds, if it holds only one (with a digit)."""
    m = NUMBER_VALUE_RE.match(cell)
    return m["number"] if m and any(c.isdigit() for c in m["number"]) else None


def _row_numbers(b: Block, context: str, generic_labels: frozenset[str]) -> list[NumberLine]:
    """Numbers in a table row: a "Certificate number" column, or a "Registration No. | X" row."""
    found: list[NumberLine] = []
    cells = b.cells
    for i, head in enumerate(b.header[:len(cells)]):
        number = _cell_number(cells[i])
        if number and NUMBER_LABEL_RE.match(head):
            others = [c for j, c in enumerate(cells) if j != i and c]
            label = others[0] if others else context
            found.append(NumberLine(label=label, number=number, text=b.text, context=context))
    if not found:
        for i in range(len(cells) - 1):
            number = _cell_number(cells[i + 1])
            if number and NUMBER_LABEL_RE.match(cells[i]):
                found.append(NumberLine(label=_label(cells[i], context, generic_labels),
                                        number=number, text=b.text, context=context))
    return found


def extract_numbers(blocks: list[Block], title: str, generic_labels: frozenset[str]) -> list[NumberLine]:
    """Every certificate number a section states, from number lines and table rows, in order."""
    numbers: list[NumberLine] = []
    context = title
    for block in blocks:
        if block.kind == "heading":
            context = block.text
        elif block.kind == "row":
            numbers.extend(_row_numbers(block, context, generic_labels))
        elif block.kind == "text":
            for sentence in split_sentences(block.text):
                for m in PROSE_NUMBER_RE.finditer(sentence):
                    if any(c.isdigit() for c in m["number"]):
                        numbers.append(NumberLine(label=f"{context} — {m.group(0).split(m['number'])[0].strip(' :#')}",
                                                  number=m["number"], text=sentence, context=context))
        elif block.kind == "number":
            for line in block.text.split("\n"):
                m = _number_match(line)
                if m:
                    numbers.append(NumberLine(label=_label(m["label"], context, generic_labels),
                                              number=m["number"], text=line.strip(), context=context))
    return numbers


# --- the whole corpus -----------------------------------------------------------------------


def source_name(path: Path, seeds_dir: Path) -> str:
    return path.relative_to(seeds_dir).as_posix()


def parse_file(path: Path, catalog: Catalog, seeds_dir: Path | None = None) -> list[Section]:
    """One file -> its sections (ReadError when it cannot be read)."""
    source = source_name(path, seeds_dir) if seeds_dir else path.name
    listed = catalog.documents.get(source) or catalog.documents.get(path.name) or DocumentMeta()
    return sections_of(read(path), source, listed, catalog)


def visible_text(path: Path) -> str:
    """Everything a reader of the file sees, in order: what a quoted passage must come from."""
    return "\n\n".join(b.text for b in with_header_rows(read(path).blocks))


def _shingles(text: str, size: int = 4) -> set[int]:
    """A text's word 4-grams, each as its 64-bit hash: the same comparisons as the 4-grams
    themselves (a collision is one chance in 2^64) at a fraction of the memory. Python's own
    string hash: it differs between processes, but one build compares within one process."""
    tokens = plain_tokens(text)
    return {hash(" ".join(tokens[i:i + size])) for i in range(max(0, len(tokens) - size + 1))}


def _same_section(a: Section, b: Section, containment: float, threshold: float) -> bool:
    """Essentially the same text, for the same audience, about the same subject.

    Two sections under different headings, or two parts of one document, need near-identical
    text: pages written from one template (two audits sharing 0.67 of their 4-grams, an
    "in-scope services" table each page fills differently) are different sections. Pages
    about different subjects never merge, however much boilerplate they share.
    """
    if a.visibility != b.visibility:
        return False
    if a.headed and b.headed and _norm(a.family) != _norm(b.family):
        return False     # text shared by pages about different subjects (an include) stays with each
    if a.source == b.source or (a.headed and b.headed and _norm(a.title) != _norm(b.title)):
        return containment >= 0.85
    return containment >= threshold


MAX_SHARED = 50   # a 4-gram in more sections than this is boilerplate, not duplication


def merge_duplicates(sections: list[Section], threshold: float = 0.6) -> list[Section]:
    """Collapse the same section appearing in several files into one, remembering all sources.

    Two sections are the same when most word 4-grams of the smaller one occur in the larger
    one (small edits between versions keep most 4-grams: 0.79 for the two C5 pages). Within a
    group, the newest version is quoted (then the longest), unless it is a fragment of a much
    longer version.
    """
    # Only the sizes are kept per section; the 4-grams go straight into their postings, and a
    # 4-gram only one section has is dropped as soon as the pass is over (most of them).
    sizes: list[int] = []
    postings: dict[int, int | list[int]] = {}
    for i, section in enumerate(sections):
        grams = _shingles(section.text)
        sizes.append(len(grams))
        for g in grams:
            held = postings.get(g)
            if held is None:
                postings[g] = i
            elif isinstance(held, int):
                postings[g] = [held, i]
            elif len(held) <= MAX_SHARED:
                held.append(i)
    parent = list(range(len(sections)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    shared: dict[tuple[int, int], int] = {}
    for ids in postings.values():
        if isinstance(ids, int) or len(ids) > MAX_SHARED:
            continue   # one section's own phrase, or a phrase in everything: no duplication
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                shared[(ids[a], ids[b])] = shared.get((ids[a], ids[b]), 0) + 1
    del postings
    for (a, b), count in shared.items():
        smaller = min(sizes[a], sizes[b])
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


# From this many files on, two processes read them: reading and cutting files into sections
# was a tenth of a 50,000-section build, in one process while the other core waited.
PARALLEL_FILES = 500
_CHUNK = 16   # files per task handed to a reading process


def _parse_or_error(path: Path, catalog: Catalog, seeds_dir: Path) -> list[Section] | ReadError:
    try:
        return parse_file(path, catalog, seeds_dir)
    except ReadError as exc:
        return exc


def _parsed(paths: list[Path], catalog: Catalog, seeds_dir: Path) -> Iterator[list[Section] | ReadError]:
    """Each file's sections (or why it cannot be read), in the order of `paths`."""
    procs = min(2, os.cpu_count() or 1)
    if len(paths) < PARALLEL_FILES or procs < 2 or "fork" not in mp.get_all_start_methods():
        return (_parse_or_error(path, catalog, seeds_dir) for path in paths)
    # Forked, the workers share the catalogue as it is: only paths go out, sections come back.
    with mp.get_context("fork").Pool(procs, initializer=_reader_init, initargs=(catalog, seeds_dir)) as pool:
        return iter(pool.map(_read_one, paths, chunksize=_CHUNK))


_reader_args: tuple[Catalog, Path] | None = None   # set in a reading process only (_reader_init)


def _reader_init(catalog: Catalog, seeds_dir: Path) -> None:
    global _reader_args
    _reader_args = (catalog, seeds_dir)


def _read_one(path: Path) -> list[Section] | ReadError:
    assert _reader_args is not None
    return _parse_or_error(path, *_reader_args)


def load_sections(seeds_dir: Path, catalog: Catalog) -> tuple[list[Section], list[Skipped]]:
    """Every section of every readable document, duplicates merged, and the files skipped.

    One bad file never takes the corpus down: it is skipped with one warning naming it and
    the reason, and everything else is indexed.
    """
    sections: list[Section] = []
    skipped: list[Skipped] = []
    paths = document_files(seeds_dir)
    for path, found in zip(paths, _parsed(paths, catalog, seeds_dir)):
        source = source_name(path, seeds_dir)
        if isinstance(found, ReadError):
            skipped.append(Skipped(source, str(found)))
            continue
        if not found:
            skipped.append(Skipped(source, "no readable text"))
            continue
        sections.extend(found)
    for s in skipped:
        log.warning("skipping %s: %s", s.source, s.reason)
    return merge_duplicates(sections), skipped
