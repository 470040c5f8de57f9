"""The catalogue: every certification, every certificate number, and what needs review.

What `/cert list`, `/cert numbers`, `certdesk list`, `certdesk numbers`, `certdesk report
stale` and the App Home tab show, computed once here from what the build stored per section
(`SectionRecord`), so the Slack and the terminal versions can never disagree. Plain
dataclasses out; nothing here knows Whoosh or Slack (`Engine.sections` reads the records).

Nothing is written here that no source states: a scope is the compliance team's `scope` in
data/certifications.yaml, else the title the certification's sections sit under; a number
and its label are exactly as the section states them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .freshness import EXPIRED, OLD, Concern, Freshness


@dataclass(frozen=True)
class SectionRecord:
    """One indexed section, as far as the catalogue and freshness need it."""

    certification: str
    title: str                       # heading path, "Doc title › Heading"
    source: str
    visibility: str
    last_updated: str | None = None
    valid_until: str | None = None
    valid_until_from: str | None = None
    review_by: str | None = None
    review_by_from: str | None = None
    scope: str | None = None         # curated (data/certifications.yaml), else None
    numbers: tuple[tuple[str, str], ...] = ()   # (label, number) as the section states them

    @classmethod
    def from_stored(cls, data: dict) -> SectionRecord:
        """From the `data` field the build stores with each section (index/build.py)."""
        return cls(
            certification=data["certification"], title=data["title"], source=data["source"],
            visibility=data["visibility"], last_updated=data.get("last_updated"),
            valid_until=data.get("valid_until"), valid_until_from=data.get("valid_until_from"),
            review_by=data.get("review_by"), review_by_from=data.get("review_by_from"),
            scope=data.get("scope"),
            numbers=tuple((n.label, n.number) for n in data.get("numbers", ())),
        )


def visible(records: Iterable[SectionRecord], audience: str) -> tuple[SectionRecord, ...]:
    """The records this audience may see: "public" leaves internal documents out entirely, so
    not even an internal certification's name or number reaches a shared channel."""
    return tuple(r for r in records if audience != "public" or r.visibility == "public")


# --- certifications -------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificationEntry:
    """One line of `/cert list`: a certification with its scope and its dates."""

    name: str
    scope: str | None          # None when nothing says more than the name itself
    last_updated: str | None   # the newest date any of its sections states
    valid_until: str | None    # the latest (the current certificate), curated or stated
    review_by: str | None      # the soonest due
    sources: tuple[str, ...]   # files, in index order
    sections: int


def _same_words(a: str, b: str) -> bool:
    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.casefold())

    return words(a) == words(b)


def _scope(name: str, group: list[SectionRecord]) -> str | None:
    """The curated scope, else the top title most of the sections sit under (a document's
    title, or the heading of its part of a page), unless that title is just the name."""
    curated = next((r.scope for r in group if r.scope), None)
    if curated:
        return curated
    tops = Counter(r.title.split(" › ")[0] for r in group)
    title = max(tops, key=lambda t: (tops[t], -list(tops).index(t)))
    return None if _same_words(title, name) else title


def certifications(records: Iterable[SectionRecord]) -> list[CertificationEntry]:
    """Every certification in `records`, sorted by name (case-insensitive)."""
    groups: dict[str, list[SectionRecord]] = {}
    for r in records:
        groups.setdefault(r.certification, []).append(r)
    entries = []
    for name, group in groups.items():
        dated = [r.last_updated for r in group if r.last_updated]
        valid = [r.valid_until for r in group if r.valid_until]
        review = [r.review_by for r in group if r.review_by]
        entries.append(CertificationEntry(
            name=name, scope=_scope(name, group),
            last_updated=max(dated, default=None), valid_until=max(valid, default=None),
            review_by=min(review, default=None),
            sources=tuple(dict.fromkeys(r.source for r in group)), sections=len(group)))
    return sorted(entries, key=lambda e: (e.name.casefold(), e.name))


# --- certificate numbers --------------------------------------------------------------------


@dataclass(frozen=True)
class NumberEntry:
    """One line of `/cert numbers`: a certificate number, its label and its certification."""

    certification: str
    label: str
    number: str
    source: str


def numbers(records: Iterable[SectionRecord]) -> list[NumberEntry]:
    """Every certificate number stated, once each, grouped by certification (sorted by name)
    and in document order within one."""
    seen: set[tuple[str, str, str]] = set()
    found: list[NumberEntry] = []
    for r in records:
        for label, number in r.numbers:
            key = (r.certification, label, number)
            if key not in seen:
                seen.add(key)
                found.append(NumberEntry(r.certification, label, number, r.source))
    order = {name: i for i, name in enumerate(sorted({n.certification for n in found},
                                                     key=lambda n: (n.casefold(), n)))}
    return sorted(found, key=lambda n: order[n.certification])


# --- what needs review ----------------------------------------------------------------------


@dataclass(frozen=True)
class StaleItem:
    """One reason one section needs review, and the file that states the date behind it."""

    certification: str
    title: str
    source: str                # the section's document
    concern: Concern
    stated_in: str             # the file stating that date (the document, or data/…yaml)


def stale(records: Iterable[SectionRecord], freshness: Freshness) -> list[StaleItem]:
    """Every section that is old, expired or due for review, by certification name, then in
    index order; one item per reason."""
    items = []
    for r in records:
        for concern in freshness.concerns(r):
            stated = {OLD: r.source, EXPIRED: r.valid_until_from}.get(concern.kind, r.review_by_from)
            items.append(StaleItem(r.certification, r.title, r.source, concern, stated or r.source))
    return sorted(items, key=lambda i: (i.certification.casefold(), i.certification))


def undated(records: Iterable[SectionRecord]) -> list[SectionRecord]:
    """Sections whose documents state no date at all: never called old, but worth knowing."""
    return [r for r in records if not r.last_updated]
