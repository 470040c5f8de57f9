"""Which certification a section belongs to, and the names a question may call it by.

Curated names live in `data/certifications.yaml`. A document about a certification nobody has
curated still has to be answerable by its own names, so those are read from the document:
its title ("Aurora Cloud Trust Seal (ACTS)"), the numbered standard in it ("ISO/IEC 27001"
-> "ISO 27001"), and an acronym its first paragraph defines for a name in the title. A name
decides that a question is about the certification, so only forms that cannot mean anything
else count: a bare "ISO" or a provider's "AWS" in a title is not a name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from .analysis import plain_tokens
from .catalog import Catalog, Certification, slug
from .ingest import Section
from .passages import split_sentences

# Words a title adds to a certification's name without changing what it names.
GENERIC_TITLE_WORDS = frozenset({"certification", "certificate", "certified", "seal", "mark", "attestation",
                                 "report", "program", "programme", "scheme", "standard", "overview",
                                 "compliance", "accreditation", "label"})
_ACRONYM_RE = re.compile(r"^(?=.*[A-Z].*[A-Z0-9])[A-Z0-9][A-Za-z0-9]*(?:[-:.][A-Za-z0-9]+)*$")
_NUMBERED_RE = re.compile(r"^\d[\w.:\-()]*$")
# "Cloud Security Mark (CSM)": a run of capitalised words, then the acronym in parentheses.
_DEFINITION_RE = re.compile(r"((?:[A-Z][\w'’\-]*\s+(?:(?:of|for|and|the|on|in|de|du|des|für)\s+)*){1,8})\(([A-Z][A-Za-z0-9\-]{1,11})\)")


def _is_acronym(word: str, stopwords: frozenset[str]) -> bool:
    upper = sum(c.isupper() for c in word)
    return (bool(_ACRONYM_RE.match(word)) and (upper >= 2 or any(c.isdigit() for c in word))
            and len(word) >= 2 and word.lower() not in stopwords and not word.isdigit())


def _initials_match(long_form: str, acronym: str) -> bool:
    """"Cloud Security Mark" for CSM: the acronym's letters start the long form's words."""
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z][\w'’\-]*", long_form)).upper()
    letters = "".join(c for c in acronym.upper() if c.isalpha())
    it = iter(initials)
    return len(letters) >= 2 and all(c in it for c in letters)


def title_names(title: str, stopwords: frozenset[str]) -> list[str]:
    """Names in a title: numbered standards with their acronym, and acronyms it defines."""
    if title.upper() == title and len(title.split()) > 3:   # a heading in capitals is shouting
        return []
    names: list[str] = []
    words = [w.strip(".,;()[]") for w in re.split(r"\s+", title) if w.strip(".,;()[]")]
    for i, word in enumerate(words):
        if not _NUMBERED_RE.match(word) or i == 0:
            continue
        prev = [p for p in words[i - 1].split("/") if _is_acronym(p, stopwords)]
        # "27001:2013" is also called plain "27001": the year is the edition.
        numbers = [word] + ([word.split(":")[0]] if re.match(r"^[\w.\-]+:(?:19|20)\d\d$", word) else [])
        for number in numbers:
            names.extend(f"{p} {number}" for p in prev)
            if len(prev) > 1:
                names.append(f"{words[i - 1]} {number}")
    for m in re.finditer(r"\(([^()]{2,12})\)", title):
        inner = m.group(1).strip()
        if _is_acronym(inner, stopwords):
            names.append(inner)
    if len(words) <= 2:
        # "TISAX" titles itself; in "ISO 9001" the acronym is the standards body, and "iso" typed
        # alone must not name ISO 9001 ("iso 27001" asks for another standard).
        names.extend(w for k, w in enumerate(words) if _is_acronym(w, stopwords) and not _NUMBERED_RE.match(w)
                     and not (k + 1 < len(words) and _NUMBERED_RE.match(words[k + 1])))
    return names


def defined_names(text: str, title: str, generic: frozenset[str] = frozenset()) -> list[str]:
    """"Long Name (ACR)" definitions in `text` that name what the title is about.

    The title must hold the long form, or be the acronym plus generic words only
    ("CSM certification"): "Amazon Web Services (AWS)" in the first paragraph of
    "Compliance - AWS CloudHSM" names the provider, not the subject.
    """
    title_tokens = plain_tokens(title)
    title_norm = f" {' '.join(title_tokens)} "
    names: list[str] = []
    for m in _DEFINITION_RE.finditer(text):
        long_form, acronym = " ".join(m.group(1).split()), m.group(2)
        # Trim leading words until the initials line up ("The Aurora Cloud Trust Seal").
        words = long_form.split()
        while words and not _initials_match(" ".join(words), acronym):
            words = words[1:]
        while len(words) > 1 and _initials_match(" ".join(words[1:]), acronym) \
                and words[0][0].upper() != acronym[0].upper():
            words = words[1:]
        if not words:
            continue
        long_form = " ".join(words)
        acronym_tokens = plain_tokens(acronym)
        subject = all(t in generic or t in acronym_tokens for t in title_tokens)
        if (f" {' '.join(plain_tokens(long_form))} " in title_norm
                or (subject and f" {' '.join(acronym_tokens)} " in title_norm)):
            names += [long_form, acronym]
    return names


def _first_text(section: Section) -> str:
    return next((b.text for b in section.blocks if b.kind == "text"), "")


@lru_cache(maxsize=20_000)
def _normal(name: str) -> str:
    """A name as tokens: the same few catalogue names are compared for every section."""
    return " ".join(plain_tokens(name))


def _catalog_match(section: Section, catalog: Catalog) -> Certification | None:
    """A curated certification named by the section's heading path, most general first."""
    path = [p for p in ([section.doc_title] if section.doc_title else []) + list(section.path) if p]
    for element in dict.fromkeys(path):
        norm = _normal(element)
        for cert in catalog.certifications:
            if any(_normal(t) == norm for t in cert.titles):
                return cert
        padded = f" {norm} "
        best: tuple[int, Certification] | None = None
        for cert in catalog.certifications:
            for name in (cert.name, *cert.names):
                tokens = _normal(name)
                if tokens and f" {tokens} " in padded and (best is None or len(tokens) > best[0]):
                    best = (len(tokens), cert)
        if best:
            return best[1]
    return None


def certification_of(section: Section, catalog: Catalog) -> Certification:
    """The catalogue entry a section belongs to, or one named by the document itself."""
    stopwords = catalog.vocabulary.stopwords
    if section.certification:
        cert = catalog.certification(section.certification)
        if cert:
            return cert
    cert = _catalog_match(section, catalog)
    if cert:
        return cert
    name = section.certification or section.doc_title or section.family
    generic = stopwords | GENERIC_TITLE_WORDS
    names = [name]
    # The names the document gives itself count whatever its front matter calls the certification.
    for title in dict.fromkeys(t for t in (name, section.doc_title or section.family) if t):
        names += [title, *title_names(title, stopwords), *defined_names(_first_text(section), title, generic)]
    return Certification(key=slug(name), name=name, titles=(name,), names=tuple(dict.fromkeys(names)))


# A standard's number in one of its names: "ISO/IEC 27017" -> 27017, "FIPS 140-2" -> 140-2.
_STANDARD_NUMBER_RE = re.compile(r"(?<![\w.\-])[A-Z]{2,}(?:/[A-Z]{2,})*[\s-]+(\d{4,5}|\d{3}-\d{1,2})(?![\w\-])")
_YEAR_RE = re.compile(r"^(?:19|20)\d\d$")


def with_bare_numbers(certs: dict[str, Certification]) -> dict[str, Certification]:
    """Standards are called by their number alone ("27017 cert number?"): the number of
    "ISO/IEC 27017" becomes a name of that certification too, unless another certification's
    names hold the same number (then it says nothing about which one is meant)."""
    numbers: dict[str, set[str]] = {}
    for key, cert in certs.items():
        for name in (cert.name, *cert.titles, *cert.names):
            for m in _STANDARD_NUMBER_RE.finditer(name):
                if not _YEAR_RE.match(m.group(1)):
                    numbers.setdefault(m.group(1), set()).add(key)
    own: dict[str, list[str]] = {}
    for number, keys in numbers.items():
        if len(keys) == 1:
            own.setdefault(next(iter(keys)), []).append(number)
    return {key: replace(cert, names=tuple(dict.fromkeys([*cert.names, *own.get(key, [])])))
            for key, cert in certs.items()}


# --- the company --------------------------------------------------------------------------

# A name counts as the company's when, in at least this share of the documents (and two),
# it is written before a "holds" verb ("Microsoft cloud services received MTCS certification"),
# and it is so written at least this share as often as the most frequent such name (a month or
# a product in one list of holders is not the company).
COMPANY_DOCUMENT_SHARE = 0.25
COMPANY_SUBJECT_SHARE = 0.25
# ... and it is a proper name: capitalised in nearly every occurrence after a sentence's first
# word ("Cloud" in "Tencent Cloud" is also "cloud services": not a name).
COMPANY_CAPITALISED_SHARE = 0.95
_WORD_RE = re.compile(r"\b\w+\b")
_NAME_RE = re.compile(r"\b[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*\b|\b[A-Z]{2,}\b")


def company_names(sections: list[Section], certifications: list[Certification],
                  holds: tuple[re.Pattern[str], ...]) -> list[str]:
    """The names the documents themselves use for the company that holds the certifications.

    data/vocabulary.yaml's `company_names` serves a curated corpus; a compliance team's own
    pages name their company (Microsoft, AWS …) without anyone listing it, and without a
    company name no sentence reads as "we were granted Level 3". A certification's own names
    never count: "FIPS 140-2 validated" is not a company.
    """
    own = {t for cert in certifications for name in (cert.name, *cert.titles, *cert.names)
           for t in plain_tokens(name)}
    documents = {source for s in sections for source in (s.sources or [s.source])}
    capitalised: dict[str, int] = {}
    lower: dict[str, int] = {}
    subject_of: dict[str, set[str]] = {}
    subject_count: dict[str, int] = {}
    for section in sections:
        where = set(section.sources or [section.source])
        for block in section.blocks:
            if block.kind == "heading":
                continue
            for sentence in split_sentences(block.text):
                for i, m in enumerate(_WORD_RE.finditer(sentence)):
                    word = m.group()
                    if i and word[0].isupper():
                        capitalised[word] = capitalised.get(word, 0) + 1
                    elif i:
                        lower[word.capitalize()] = lower.get(word.capitalize(), 0) + 1
                verb = min((m.start() for rx in holds if (m := rx.search(sentence))), default=None)
                if verb is None:
                    continue
                # The first word counts too ("Contoso Vault has obtained ..."): whether it is
                # a name is told by how it is written elsewhere (`proper`).
                for m in _NAME_RE.finditer(sentence, 0, verb):
                    subject_of.setdefault(m.group(), set()).update(where)
                    subject_count[m.group()] = subject_count.get(m.group(), 0) + 1
    def proper(word: str) -> bool:
        cap = capitalised.get(word, 0)
        return cap > 0 and cap >= COMPANY_CAPITALISED_SHARE * (cap + lower.get(word, 0)) and word.lower() not in own

    needed = max(2, COMPANY_DOCUMENT_SHARE * len(documents))
    names = [word for word, docs in subject_of.items() if len(docs) >= needed and proper(word)]
    most = max((subject_count[w] for w in names), default=0)
    company = {w for w in names if subject_count[w] >= COMPANY_SUBJECT_SHARE * most}
    return sorted(company | _products_of(company, sections, proper))


PRODUCT_MENTIONS = 2   # "Microsoft Azure" twice: Azure is the company's product
PHRASE_SHARE = 0.8     # "Office" is nearly always "Office 365" after "Microsoft": the product is "Office 365"


def _products_of(company: set[str], sections: list[Section], proper: Callable[[str], bool]) -> set[str]:
    """Proper names written right after the company's name ("Microsoft Azure", "Microsoft
    Office 365"): the company's products, which sentences name instead of the company
    ("Azure, OneDrive for Business and SharePoint Online are certified ... Level 1"). A word
    that is nearly always followed by the same word or number is named with it: "Office 365",
    not every "Federal Office"."""
    if not company:
        return set()
    after = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(company)))
                       + r")\s+([A-Z][A-Za-z0-9]+)(?:\s+([A-Z][A-Za-z0-9]+|\d+)\b)?")
    words: dict[str, int] = {}
    phrases: dict[tuple[str, str], int] = {}
    for section in sections:
        for block in section.blocks:
            for m in after.finditer(block.text):
                words[m.group(1)] = words.get(m.group(1), 0) + 1
                if m.group(2):
                    phrases[(m.group(1), m.group(2))] = phrases.get((m.group(1), m.group(2)), 0) + 1
    found = set()
    for word, n in words.items():
        if n < PRODUCT_MENTIONS or word in company or not proper(word):
            continue
        (first, second), most = max(((k, v) for k, v in phrases.items() if k[0] == word),
                                    key=lambda kv: kv[1], default=((word, ""), 0))
        found.add(f"{first} {second}" if most >= PHRASE_SHARE * n else word)
    return found
