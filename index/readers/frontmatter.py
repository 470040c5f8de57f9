"""A leading `---` YAML block, as docs sites write them: any keys, never fatal.

Docs-site front matter carries whatever its generator wants (`description`, `author`,
`ms.date`, `keywords` …). certdesk uses the few keys it understands and ignores the rest; a
block that is not valid YAML is left out of the text and reported, and the page is still read.
"""

from __future__ import annotations

import logging
from typing import Any

import yaml

from ..dates import parse_date

log = logging.getLogger(__name__)

# Keys that date a page, best first; any vendor-prefixed "<vendor>.date" comes after these.
DATE_KEYS = ("last_updated", "last-updated", "lastupdated", "updated", "lastmod", "last_modified",
             "modified", "date")
# Keys that say until when the certificate a page describes holds, and when the page is due
# for review (index/freshness.py), best first. Never a "last updated" date, though
# "expiry_date" and "review_date" end like one.
VALID_UNTIL_KEYS = ("valid_until", "valid-until", "validuntil", "valid_through", "valid-through",
                    "valid_to", "expires", "expires_on", "expiry", "expiry_date", "expiry-date",
                    "expiration", "expiration_date", "expiration-date")
REVIEW_BY_KEYS = ("review_by", "review-by", "reviewby", "next_review", "next-review",
                  "next_review_date", "review_due")


def split(text: str, where: str = "") -> tuple[dict[str, Any], str, int]:
    """(front matter mapping, the rest, how many lines the block took). Empty when none."""
    if not text.startswith("---\n"):
        return {}, text, 0
    lines = text.split("\n")
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            rest = "\n".join(lines[i + 1:])
            try:
                mapping = yaml.safe_load("\n".join(lines[1:i]))
            except yaml.YAMLError as exc:
                log.warning("%s: front matter is not valid YAML (%s); reading the page without it",
                            where, str(exc).splitlines()[0])
                return {}, rest, i + 1
            if not isinstance(mapping, dict):
                return {}, rest, i + 1
            return {str(k): v for k, v in mapping.items()}, rest, i + 1
    return {}, text, 0          # "---" at the top but never closed: a horizontal rule, not metadata


def date_of(meta: dict[str, Any]) -> str | None:
    """The page's date from the first date key it has (see DATE_KEYS), else a `*.date` key."""
    lowered = {k.lower(): v for k, v in meta.items()}
    for key in DATE_KEYS:
        if key in lowered:
            date = parse_date(lowered[key])
            if date:
                return date
    for key, value in lowered.items():
        if key.endswith((".date", "_date", ":date")) and key not in VALID_UNTIL_KEYS + REVIEW_BY_KEYS:
            date = parse_date(value)
            if date:
                return date
    return None


def _first_date(lowered: dict[str, Any], keys: tuple[str, ...], where: str) -> str | None:
    for key in keys:
        if key in lowered and lowered[key] not in (None, ""):
            date = parse_date(lowered[key])
            if date is None:
                log.warning("%s: front matter %s %r is not a date; ignored", where, key, lowered[key])
            return date
    return None


def validity_of(meta: dict[str, Any], where: str = "") -> tuple[str | None, str | None]:
    """(valid until, review by) from the first key of each kind the page has, as YYYY-MM-DD.
    A value that is not a date is reported and ignored: front matter is never fatal."""
    lowered = {k.lower(): v for k, v in meta.items()}
    return _first_date(lowered, VALID_UNTIL_KEYS, where), _first_date(lowered, REVIEW_BY_KEYS, where)


def title_of(meta: dict[str, Any]) -> str | None:
    value = meta.get("title")
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = " ".join(str(value).split())
        return text or None
    return None
