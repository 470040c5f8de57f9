"""A seeds-style corpus made up from a seed value, and questions about it.

The same seed always gives the same files, passages and questions (the vocabulary itself is
fixed and does not depend on the seed). The files are laid out as seeds/*.txt are: a
certification's name on its own line followed by a `Last updated : …` line, paragraphs of
prose, `### ` headings, certificate-number lines (`Cloud Hosting No: 01018`). About one
document in four is a compliance page listing several certifications, each under its own
name and `Last updated` line, as seeds/001_*.txt does.

Word frequencies follow Zipf's law over a fixed vocabulary: English function words first,
then compliance words, then a long tail of made-up words. One very common word, "cloud", is
put in about 70 % of the passages, because a word that is in most passages is what makes a
search engine's slowest questions slow.

A passage here is one section as certdesk indexes it: the text under a title or a `###`
heading (index/ingest.py). `Corpus.passages` is what the generator wrote, so that every
system is given the same passages; the section count certdesk reports after building may
differ slightly (it merges sections that are near-identical).
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path

COMMON_WORD = "cloud"
COMMON_SHARE = 0.7          # of passages that contain COMMON_WORD
VOCABULARY_SIZE = 30_000    # words the text is drawn from (a fixed list)
ZIPF_EXPONENT = 1.0
VOCABULARY_SEED = 20_240_607  # the vocabulary never changes with --seed

FUNCTION_WORDS = tuple("""
the of and to in for is with by on as that are its be this an from or at which all their
has have it not can also other more these such was been will our each may into both under
""".split())

DOMAIN_WORDS = tuple("""
security data service services audit management information controls customer standard
provider assessment access systems storage network encryption risk privacy protection
requirements process policy operations region regions infrastructure availability incident
monitoring identity backup recovery governance certificate framework compliance criteria
continuity resilience confidentiality integrity authentication authorization logging
vulnerability penetration testing independent auditor report scope products platform
hosting database center centre facilities physical environmental personnel training
awareness supplier vendor outsourcing financial banking healthcare government public
sector industry automotive payment card cardholder sensitive personal regulation
regulatory authority agency ministry national international level levels tier grade
class annual review renewal validity issued granted expiry maintained evaluation
evidence documentation procedures objectives statement applicability certification body
accredited assessor attestation inspection examination measures technical organizational
administrative safeguards disclosure retention deletion destruction migration transfer
residency sovereignty localization jurisdiction cross border transmission backup archive
key keys management hardware module cryptographic algorithm certificates signature
container kubernetes compute virtual machine instances serverless functions object block
file archive content delivery edge cache load balancing firewall gateway dns domain
private dedicated hybrid multi tenant isolation segmentation zero trust endpoint mobile
application applications software development lifecycle secure coding change release
configuration baseline hardening patching antivirus malware detection response forensic
threat intelligence operations centre emergency drills disaster tolerance redundancy
replication durability uptime sla commitment indemnity compensation termination clause
transparency accountability ethics principles guidelines standards specification
benchmark maturity capability model controls matrix mapping gap remediation plan
""".split())

PRODUCTS = (
    "Cloud Hosting", "Cloud Data Storage Services", "Cloud Cache Services", "Cloud Object Storage Services",
    "Local Load Balancing Services", "Inter-Data Center VPN Services", "Cloud Delivery Services",
    "Block Storage Services", "Private Cloud Segment", "Application Hosting Container",
    "Managed Database Services", "Content Delivery Network", "Serverless Functions", "Message Queue Services",
    "Key Management Services", "Data Warehouse Services", "Container Registry", "Elastic Compute Services",
    "Virtual Private Cloud", "Cloud Firewall", "Web Application Firewall", "Identity Services",
    "Log Services", "Monitoring Services", "Backup Services", "Archive Storage Services",
)
KINDS = ("Certification", "Seal", "Mark", "Standard", "Attestation", "Scheme", "Assessment", "Label",
         "Accreditation", "Programme")
TOPICS = ("Cloud Security", "Data Protection", "Information Security", "Privacy", "Trusted Cloud",
          "Cloud Services", "Financial Services", "Cyber Resilience", "Service Quality", "Secure Hosting",
          "Payment Security", "Health Data", "Critical Infrastructure", "Supply Chain", "Business Continuity")
HEADINGS = (
    "What does the {acr} evaluation cover?", "Scope of the {acr} certification", "Why do you need {acr}?",
    "Which regions and services have passed {acr}?", "Audit process", "About the {name}",
    "{acr} requirements for {topic}", "Benefits for customers", "Validity and renewal",
    "Who assessed the {acr} certification?", "{topic} controls", "In-scope services",
)
NUMBER_FORMATS = ("{d5}", "{L}{d5}", "{LL}-{year}-{d4}", "{LL} {d6}")
ONSETS = ("b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "k", "l", "m", "n", "p", "pl", "r",
          "s", "st", "t", "tr", "v", "w", "sh", "sp")
VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "ei")
CODAS = ("", "", "", "", "", "n", "r", "s", "l", "nt", "st", "m", "th", "nd", "k")


@dataclass(frozen=True)
class Passage:
    """One section as written: its heading path (as certdesk shows it) and its text."""

    title: str
    text: str
    source: str


@dataclass(frozen=True)
class Question:
    kind: str
    text: str


@dataclass
class _Facts:
    """What a question may ask about one written section."""

    cert: str
    acronym: str
    words: tuple[str, ...]
    numbers: tuple[tuple[str, str], ...]
    date: str


@dataclass
class Corpus:
    seeds_dir: Path
    seed: int
    documents: int = 0
    passages: list[Passage] = field(default_factory=list)
    bytes: int = 0
    _facts: list[_Facts] = field(default_factory=list, repr=False)


# --- the vocabulary ----------------------------------------------------------------------------


def _pseudo_words(count: int, taken: set[str], rng: random.Random) -> list[str]:
    words: list[str] = []
    seen = set(taken)
    while len(words) < count:
        word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                       for _ in range(rng.choice((1, 1, 2, 2, 2, 2, 2, 3, 3, 3))))
        if 4 <= len(word) <= 13 and word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Vocabulary:
    """Words by rank (most frequent first) and the Zipf weights to draw them with."""

    def __init__(self, size: int = VOCABULARY_SIZE, exponent: float = ZIPF_EXPONENT):
        rng = random.Random(VOCABULARY_SEED)
        fixed = list(dict.fromkeys(w for w in FUNCTION_WORDS + DOMAIN_WORDS if w != COMMON_WORD))
        # Interleave the compliance words with made-up ones, so the made-up tail starts early
        # and common and rare words both come from both lists.
        tail = _pseudo_words(size - len(fixed), set(fixed) | {COMMON_WORD}, rng)
        head = list(FUNCTION_WORDS)
        domain = [w for w in fixed if w not in FUNCTION_WORDS]
        mixed = [w for pair in itertools.zip_longest(domain, tail[:len(domain)]) for w in pair if w]
        self.words: list[str] = head + mixed + tail[len(domain):]
        self.rank = {w: i for i, w in enumerate(self.words)}
        self._cum = list(itertools.accumulate(1.0 / (r + 1) ** exponent for r in range(len(self.words))))
        # Words no passage uses: questions about nothing in the documents.
        self.unknown = _pseudo_words(200, set(self.words) | {COMMON_WORD}, random.Random(VOCABULARY_SEED + 1))
        self.unknown = [("qu" + w + "z") for w in self.unknown]

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self._cum, k=k)

    def content(self, word: str) -> bool:
        return word not in FUNCTION_WORDS


_VOCABULARY: Vocabulary | None = None


def vocabulary() -> Vocabulary:
    global _VOCABULARY
    if _VOCABULARY is None:
        _VOCABULARY = Vocabulary()
    return _VOCABULARY


# --- writing ---------------------------------------------------------------------------------


class _Writer:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.vocab = vocabulary()
        self.acronyms: set[str] = set()
        self.names: set[str] = set()

    def sentence(self, words: list[str], cloud: bool) -> str:
        rng = self.rng
        tokens = self.vocab.draw(rng, rng.randint(8, 24))
        if cloud:
            tokens.insert(rng.randrange(len(tokens) + 1), rng.choice((COMMON_WORD, "Tencent Cloud")))
        if rng.random() < 0.12:
            extra = rng.choice(("{n} regions", "level {k}", "since {y}", "version {k}.{n}", "{n} data centres"))
            tokens.insert(rng.randrange(len(tokens) + 1), extra.format(n=rng.randint(2, 40), k=rng.randint(1, 4),
                                                                        y=rng.randint(2012, 2024)))
        words.extend(t for t in tokens if " " not in t)
        text = " ".join(tokens)
        return text[0].upper() + text[1:] + "."

    def paragraph(self, words: list[str], cloud: bool) -> str:
        n = self.rng.randint(2, 5)
        cloud_at = self.rng.randrange(n) if cloud else -1
        return " ".join(self.sentence(words, i == cloud_at or (cloud and self.rng.random() < 0.2))
                        for i in range(n))

    def body(self, cloud: bool) -> tuple[list[str], list[str]]:
        words: list[str] = []
        paras = [self.paragraph(words, cloud) for _ in range(self.rng.choice((1, 2, 2, 3)))]
        return paras, words

    def date(self) -> str:
        rng = self.rng
        return (f"{rng.randint(2016, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}")

    def number(self) -> str:
        rng = self.rng
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        return rng.choice(NUMBER_FORMATS).format(
            d4=f"{rng.randint(0, 9999):04d}", d5=f"{rng.randint(0, 99999):05d}", d6=f"{rng.randint(0, 999999):06d}",
            L=rng.choice(letters), LL=rng.choice(letters) + rng.choice(letters), year=rng.randint(2015, 2024))

    def certification(self) -> tuple[str, str]:
        """A new certification's full name and acronym, both unique in the corpus."""
        rng = self.rng
        while True:
            place = rng.choice(self.vocab.words[len(FUNCTION_WORDS) + 300:]).capitalize()
            name = f"{place} {rng.choice(TOPICS)} {rng.choice(KINDS)}"
            if name not in self.names:
                break
        self.names.add(name)
        base = "".join(w[0] for w in name.split()).upper()
        acronym = base
        for n in itertools.count(2):
            if acronym not in self.acronyms:
                break
            acronym = f"{base}{n}"
        self.acronyms.add(acronym)
        return name, acronym


def _section(w: _Writer, kind: str, name: str, acronym: str, topic: str,
             headings: list[str]) -> tuple[str | None, list[str], list[str], list[tuple[str, str]]]:
    """(heading, paragraphs, words, numbers) of one section of a certification; a prose section
    takes the last of `headings`, so no heading repeats within a certification."""
    rng = w.rng
    cloud = rng.random() < COMMON_SHARE
    if kind == "numbers":
        products = rng.sample(PRODUCTS, rng.randint(2, 8))
        numbers = [(p, w.number()) for p in products]
        lines = "\n".join(f"{label} No: {number}" for label, number in numbers)
        heading = rng.choice(("Business lines that have been awarded the {acr} certification",
                              "{acr} certificates", "Certified services")).format(acr=acronym)
        intro, words = w.body(cloud)
        return heading, intro[:1] + [lines], words + [t.lower() for p in products for t in p.split()], numbers
    if kind == "special":
        number = w.number()
        heading = f"{rng.choice(('Gold', 'Silver', 'Platinum'))} Class Operations Special Assessment"
        return heading, [f"Certificate No: {number}"], [], [(heading, number)]
    paras, words = w.body(cloud)
    heading = None if kind == "intro" else headings.pop().format(acr=acronym, name=name, topic=topic)
    if kind == "intro":
        definition = f"The {name} ({acronym}) is a {topic.lower()} {rng.choice(KINDS).lower()}."
        paras[0] = definition + " " + paras[0]
    return heading, paras, words, []


def _sections_plan(w: _Writer) -> list[str]:
    rng = w.rng
    kinds = ["intro"] + ["prose"] * rng.randint(2, 7)
    if rng.random() < 0.5:
        kinds.insert(rng.randint(2, len(kinds)), "numbers")
    if rng.random() < 0.15:
        kinds.append("special")
    return kinds


def generate(seeds_dir: Path, passages: int, seed: int = 1) -> Corpus:
    """Write about `passages` sections' worth of .txt documents into `seeds_dir` (exactly that many
    sections are written; a document may be cut short to make the count)."""
    seeds_dir.mkdir(parents=True, exist_ok=True)
    w = _Writer(seed)
    corpus = Corpus(seeds_dir=seeds_dir, seed=seed)
    doc = 0
    while len(corpus.passages) < passages:
        source = f"bench_{doc:06d}.txt"
        multi = w.rng.random() < 0.25
        certs = w.rng.randint(2, 4) if multi else 1
        out: list[str] = []
        for _ in range(certs):
            if len(corpus.passages) >= passages:
                break
            name, acronym = w.certification()
            topic = next(t for t in TOPICS if t in name)
            date = w.date()
            title = f"{name} ({acronym})"
            out += [title, f"Last updated : {date}"]
            headings = w.rng.sample(HEADINGS, len(HEADINGS))
            for kind in _sections_plan(w):
                if len(corpus.passages) >= passages:
                    break
                heading, paras, words, numbers = _section(w, kind, name, acronym, topic, headings)
                section_date = date
                if heading is not None:
                    out.append(f"### {heading}")
                    if w.rng.random() < 0.2:
                        section_date = w.date()
                        out.append(f"Last updated : {section_date}")
                out += paras
                path = title if heading is None else f"{title} › {heading}"
                corpus.passages.append(Passage(title=path, text="\n\n".join(paras), source=source))
                corpus._facts.append(_Facts(cert=name, acronym=acronym, words=tuple(words),
                                            numbers=tuple(numbers), date=section_date[:10]))
        text = "\n\n".join(out) + "\n"
        (seeds_dir / source).write_text(text, encoding="utf-8")
        corpus.bytes += len(text.encode("utf-8"))
        doc += 1
    corpus.documents = doc
    return corpus


# --- questions -------------------------------------------------------------------------------

# How often each kind of question is asked (out of 20).
QUESTION_MIX = (("rare", 4), ("mixed", 4), ("common", 3), ("name", 2), ("number", 3), ("updated", 2),
                ("nomatch", 2))


def _rarest(words: tuple[str, ...], vocab: Vocabulary, k: int) -> list[str]:
    content = sorted({x.lower() for x in words if vocab.content(x.lower()) and x.lower() in vocab.rank},
                     key=lambda x: -vocab.rank[x])
    return content[:k]


def _question(kind: str, facts: _Facts, rng: random.Random, vocab: Vocabulary) -> str:
    common = [x for x in DOMAIN_WORDS[:40] if x != COMMON_WORD]
    if kind == "rare":
        words = _rarest(facts.words, vocab, rng.randint(2, 3)) or rng.sample(common, 2)
        return rng.choice(("{w}", "what about {w}?", "do we have anything on {w}", "{w} policy")).format(
            w=" ".join(words))
    if kind == "mixed":
        rare = _rarest(facts.words, vocab, 1) or [rng.choice(common)]
        words = [COMMON_WORD] + rng.sample(common, 2) + rare
        rng.shuffle(words)
        return rng.choice(("is our {w} covered?", "{w}", "which {w} requirements apply")).format(w=" ".join(words))
    if kind == "common":
        words = [COMMON_WORD] + rng.sample(common, rng.randint(2, 4))
        rng.shuffle(words)
        return rng.choice(("{w}", "does the {w} cover it?", "what {w} do we have")).format(w=" ".join(words))
    if kind == "name":
        return rng.choice(("Are we {acr} certified?", "What is the {name}?", "{acr} scope",
                           "do we hold the {name} in {w}")).format(
            acr=facts.acronym, name=facts.cert, w=rng.choice(common))
    if kind == "number":
        label = rng.choice(facts.numbers)[0] if facts.numbers else rng.choice(PRODUCTS)
        return rng.choice(("{acr} certificate number for {label}", "{acr} cert no for {label}",
                           "what is the {name} certificate number for {label}?")).format(
            acr=facts.acronym, name=facts.cert, label=label.lower())
    if kind == "updated":
        return rng.choice(("when was {name} last updated", "{acr} last updated date",
                           "how recent is the {acr} page?")).format(acr=facts.acronym, name=facts.cert)
    # nomatch: words no document uses, or a misspelled rare word among them.
    words = rng.sample(vocab.unknown, rng.randint(1, 2))
    rare = _rarest(facts.words, vocab, 1)
    if rare and rng.random() < 0.5 and len(rare[0]) > 4:
        i = rng.randrange(1, len(rare[0]) - 1)
        words.append(rare[0][:i] + rare[0][i + 1:])      # one letter dropped: a typo to correct
    return rng.choice(("{w}", "do we have {w} certification?", "{w} audit report")).format(w=" ".join(words))


def questions(corpus: Corpus, count: int, seed: int | None = None) -> list[Question]:
    """`count` questions about the corpus, the same ones for the same corpus and seed."""
    rng = random.Random(f"questions {corpus.seed if seed is None else seed}")
    vocab = vocabulary()
    kinds = [k for k, n in QUESTION_MIX for _ in range(n)]
    numbered = [i for i, f in enumerate(corpus._facts) if f.numbers]
    out: list[Question] = []
    for i in range(count):
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
        pool = numbered if kind == "number" and numbered else None
        index = rng.choice(pool) if pool else rng.randrange(len(corpus._facts))
        out.append(Question(kind, _question(kind, corpus._facts[index], rng, vocab)))
    rng.shuffle(out)
    return out
