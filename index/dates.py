"""Dates as documents state them -> YYYY-MM-DD, or None; never a guess.

Written out rather than handed to a general date parser on purpose: those fill in what the
text leaves out (today's day for "June 2020"), and a date shown to a customer must be one the
document states. Accepted: ISO dates and timestamps, "August 31, 2020", "31 August 2020",
"Aug 31 2020", US-style "06/24/2024" (the form docs-site front matter uses), PDF
"D:20240624..." stamps, and YAML date objects.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {name[:3].lower(): i for i, name in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)}
_MONTH = r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"

_FORMS = [
    re.compile(r"(?P<year>(?:19|20)\d\d)[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})(?!\d)"),
    re.compile(r"D:(?P<year>(?:19|20)\d\d)(?P<month>\d\d)(?P<day>\d\d)"),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>(?:19|20)\d\d)\b"),
]


def _date_of(m: re.Match[str]) -> str | None:
    month = m["month"]
    month_no = int(month) if month.isdigit() else _MONTHS.get(month[:3].lower())
    try:
        return dt.date(int(m["year"]), month_no or 0, int(m["day"])).isoformat()
    except ValueError:
        return None


def parse_date(value: object) -> str | None:
    """The first full date (year, month and day) stated in `value`, as YYYY-MM-DD."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    for form in _FORMS:
        for m in form.finditer(value):
            date = _date_of(m)
            if date:
                return date
    return None


def date_at_start(text: str) -> str | None:
    """The date `text` opens with ("1 March 2025, unless withdrawn"), or None.

    For a date that a cue introduces ("valid until ..."): a date further on in the sentence
    belongs to something else ("valid until withdrawn; issued 2020-01-01")."""
    text = text.lstrip(" :：-–—\t")
    for form in _FORMS:
        m = form.match(text)
        if m:
            date = _date_of(m)
            if date:
                return date
    return None
