"""Is a source still safe to quote? The one decision, for every place that says so.

A rep quoting a 2018 page or a certificate that ran out last spring on a sales call is worse
than no answer, so every answer, the catalogue and `certdesk report stale` ask `concerns()`
here and say the same words. Nothing here reads the clock or the environment: the caller
passes today's date and the CERTDESK_STALE_DAYS setting, so a test can fix both.

Three reasons, each from a date a document or `data/` states (never a guessed one):

  old         last updated more than `stale_days` days before today
  expired     valid until a day before today (a certificate is valid on its last day)
  review due  the review_by date is today or past (for `certdesk report stale`; an answer
              warns only for the first two, as the issue asks)

An undated source raises no concern: "last updated: not stated" is already shown beside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

DEFAULT_STALE_DAYS = 730
STALE_DAYS_VARIABLE = "CERTDESK_STALE_DAYS"
CONFIRM = "confirm with compliance before quoting"

OLD = "old"
EXPIRED = "expired"
REVIEW_DUE = "review due"


class Dated(Protocol):
    """Anything carrying a source's dates as YYYY-MM-DD or None (a Result, a catalogue entry)."""

    last_updated: str | None
    valid_until: str | None
    review_by: str | None


@dataclass(frozen=True)
class Concern:
    """One reason to confirm before quoting, with the date that gives it."""

    kind: str          # OLD | EXPIRED | REVIEW_DUE
    date: str          # YYYY-MM-DD, as stored
    days: int          # how many days ago (OLD), or since it passed (EXPIRED, REVIEW_DUE)

    @property
    def warns_reader(self) -> bool:
        """Whether an answer shows it (a review date is the compliance team's own business)."""
        return self.kind in (OLD, EXPIRED)

    def phrase(self) -> str:
        """The concern in the words the answers use: "last updated 2018-06-22"."""
        if self.kind == OLD:
            return f"last updated {self.date}"
        if self.kind == EXPIRED:
            return f"valid until {self.date} — expired"
        return f"review due {self.date}"


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:      # never stored by the build; an index from elsewhere says nothing
        return None


def concerns(last_updated: str | None, valid_until: str | None, review_by: str | None, *,
             today: dt.date, stale_days: int) -> tuple[Concern, ...]:
    """Every reason to confirm a source before quoting it, expired first (the strongest)."""
    found: list[Concern] = []
    until = _day(valid_until)
    if until is not None and until < today:
        found.append(Concern(EXPIRED, until.isoformat(), (today - until).days))
    updated = _day(last_updated)
    if updated is not None and (today - updated).days > stale_days:
        found.append(Concern(OLD, updated.isoformat(), (today - updated).days))
    review = _day(review_by)
    if review is not None and review <= today:
        found.append(Concern(REVIEW_DUE, review.isoformat(), (today - review).days))
    return tuple(found)


def warning_for(found: tuple[Concern, ...]) -> str | None:
    """The one line an answer shows, or None when the source is fresh:
    "last updated 2018-06-22 — confirm with compliance before quoting",
    "valid until 2024-03-01 — expired; confirm with compliance before quoting"."""
    shown = [c for c in found if c.warns_reader]
    if not shown:
        return None
    # "— expired" already ends in a dash clause; a second dash would read as one long aside.
    tail = f"; {CONFIRM}" if shown[-1].kind == EXPIRED else f" — {CONFIRM}"
    return "; ".join(c.phrase() for c in shown) + tail


@dataclass(frozen=True)
class Freshness:
    """Today's date and the CERTDESK_STALE_DAYS setting, read once by the caller (a request,
    a command) and handed to whatever renders."""

    today: dt.date
    stale_days: int = DEFAULT_STALE_DAYS

    def concerns(self, item: Dated) -> tuple[Concern, ...]:
        return concerns(item.last_updated, item.valid_until, item.review_by,
                        today=self.today, stale_days=self.stale_days)

    def warning(self, item: Dated) -> str | None:
        return warning_for(self.concerns(item))


def parse_stale_days(text: str | None) -> int:
    """CERTDESK_STALE_DAYS as a whole number of days (unset or blank: the default).

    ValueError names the variable, so the CLI and the bot's Settings can print it as is."""
    text = (text or "").strip()
    if not text:
        return DEFAULT_STALE_DAYS
    try:
        days = int(text)
    except ValueError:
        raise ValueError(f"{STALE_DAYS_VARIABLE} must be a whole number of days, such as "
                         f"{DEFAULT_STALE_DAYS}, not {text!r}") from None
    if days < 1:
        raise ValueError(f"{STALE_DAYS_VARIABLE} must be at least 1 day, not {days}")
    return days
