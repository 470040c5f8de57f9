"""The catalogue and the freshness report for a terminal: `certdesk list`, `certdesk numbers`
and `certdesk report stale`, as text for a person or one JSON object.

The same entries as `/cert list` and `/cert numbers` (index/listing.py) and the same warning
words (index/freshness.py); only the layout is the terminal's. Pure functions of their
inputs: the command reads today's date and CERTDESK_STALE_DAYS and passes them in.
"""

from __future__ import annotations

from typing import Any

from index.freshness import EXPIRED, OLD, Freshness
from index.listing import CertificationEntry, NumberEntry, StaleItem

WARN = "⚠"


def certifications_text(entries: list[CertificationEntry], freshness: Freshness) -> str:
    """Each certification: name — scope; its dates and files; a warning line when due."""
    if not entries:
        return "No certifications: the document index is empty."
    warned = sum(1 for e in entries if freshness.warning(e))
    title = (f"{len(entries)} certifications, {warned} with a warning (today {freshness.today}; "
             f"warned when last updated over {freshness.stale_days} days ago or past validity)")
    lines = [title, ""]
    for e in entries:
        lines.append(e.name + (f" — {e.scope}" if e.scope else ""))
        dates = [f"last updated {e.last_updated or 'not stated'}"]
        if e.valid_until:
            dates.append(f"valid until {e.valid_until}")
        if e.review_by:
            dates.append(f"review by {e.review_by}")
        lines.append("   " + " · ".join(dates + [", ".join(e.sources)]))
        warning = freshness.warning(e)
        if warning:
            lines.append(f"   {WARN} {warning}")
    return "\n".join(lines)


def certifications_json(entries: list[CertificationEntry], freshness: Freshness) -> dict[str, Any]:
    return {
        "today": freshness.today.isoformat(), "stale_days": freshness.stale_days,
        "certifications": [
            {"name": e.name, "scope": e.scope, "last_updated": e.last_updated,
             "valid_until": e.valid_until, "review_by": e.review_by, "sources": list(e.sources),
             "warning": freshness.warning(e)}
            for e in entries],
    }


def numbers_text(entries: list[NumberEntry]) -> str:
    """Numbers under their certification and file, "<label> No: <number>" as `ask` prints them."""
    if not entries:
        return "No certificate number is stated in the documents."
    lines = [f"{len(entries)} certificate numbers", ""]
    group = None
    for n in entries:
        if (n.certification, n.source) != group:
            group = (n.certification, n.source)
            lines.append(f"{n.certification} — {n.source}")
        lines.append(f"   {n.label} No: {n.number}")
    return "\n".join(lines)


def numbers_json(entries: list[NumberEntry]) -> dict[str, Any]:
    return {"numbers": [{"certification": n.certification, "label": n.label, "number": n.number,
                         "source": n.source} for n in entries]}


def reason(item: StaleItem) -> str:
    """Why a section needs review, with how long ago: "last updated 2018-06-22 (3078 days ago)"."""
    c = item.concern
    if c.kind == OLD:
        return f"last updated {c.date} ({c.days} days ago)"
    if c.kind == EXPIRED:
        return f"valid until {c.date} — expired {c.days} days ago"
    return f"review due {c.date}" + (f" ({c.days} days ago)" if c.days else " (today)")


def stale_text(items: list[StaleItem], freshness: Freshness, *, sections: int, undated: int) -> str:
    """What needs review, by certification: the reason, the section, its file (and the file
    stating the date, when that is data/ rather than the document)."""
    head = (f"(today {freshness.today}; CERTDESK_STALE_DAYS={freshness.stale_days}: last updated more "
            f"than {freshness.stale_days} days ago, valid until a date that has passed, or review due)")
    if not items:
        lines = [f"Nothing needs review {head}."]
    else:
        flagged = len({(i.certification, i.title, i.source) for i in items})
        lines = [f"Needs review: {flagged} of {sections} sections {head}", ""]
        current = None
        for item in items:
            if item.certification != current:
                current = item.certification
                lines.append(current)
            where = item.source + (f" (date from {item.stated_in})" if item.stated_in != item.source else "")
            lines.append(f"   {reason(item)}: {item.title} · {where}")
    if undated:
        lines += ["", (f"{undated} section(s) state no date at all, so none of them is called old "
                       "(certdesk list shows them as 'last updated not stated').")]
    return "\n".join(lines)


def stale_json(items: list[StaleItem], freshness: Freshness, *, sections: int, undated: int) -> dict[str, Any]:
    return {
        "today": freshness.today.isoformat(), "stale_days": freshness.stale_days,
        "sections": sections, "undated": undated,
        "items": [{"certification": i.certification, "title": i.title, "source": i.source,
                   "kind": i.concern.kind, "date": i.concern.date, "days": i.concern.days,
                   "reason": reason(i), "stated_in": i.stated_in} for i in items],
    }
