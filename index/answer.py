"""The Answer: the one contract shared by search, the CLI and the Slack renderer.

Search produces it, `certdesk ask --json` serialises it, `bot/blocks.py` renders it.
Nothing here knows about Whoosh or Slack, so each side can be tested with an Answer built
by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CertificateNumber:
    """One "<label> No: <number>" statement, exactly as the source states it."""

    label: str
    number: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "number": self.number}


@dataclass(frozen=True)
class Result:
    """One section that answers the question, with the sentences that answer it."""

    certification: str
    title: str
    passage: str
    certificate_numbers: tuple[CertificateNumber, ...] = ()
    last_updated: str | None = None
    source: str = ""
    score: float = 0.0
    # Every file the section appeared in (the same section in several files is merged);
    # `source` is the one whose text is quoted. Not part of the JSON contract.
    sources: tuple[str, ...] = ()
    # public | internal: who may be shown this result. Not part of the JSON contract.
    visibility: str = "public"
    # Until when the certificate holds and when the source is due for review (YYYY-MM-DD),
    # for the freshness warning (index/freshness.py). Not part of the JSON contract.
    valid_until: str | None = None
    review_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `certdesk ask --json`: exactly these keys."""
        return {
            "certification": self.certification,
            "title": self.title,
            "passage": self.passage,
            "certificate_numbers": [n.to_dict() for n in self.certificate_numbers],
            "last_updated": self.last_updated,
            "source": self.source,
            "score": round(float(self.score), 4),
        }


@dataclass(frozen=True)
class Answer:
    """What the bot says to one question: up to three results, best first, or nothing."""

    question: str
    answered: bool
    results: tuple[Result, ...] = field(default_factory=tuple)
    # Words the search understood differently from how they were typed
    # (e.g. {"ospra": "ospar"}), so a renderer can say "searched for OSPAR".
    corrections: tuple[tuple[str, str], ...] = ()
    # What the question asked that the answering section does not state, in plain words
    # ("certificate number", "auditor", "BAA"). Said so a rep never reads an adjacent
    # sentence as a "yes"; empty when everything asked is in the passage.
    not_stated: tuple[str, ...] = ()

    def not_stated_sentence(self) -> str | None:
        """What to read out about the facts the documents do not give, in one sentence:
        "The documents do not state the auditor or the date granted for OSPAR." """
        if not (self.answered and self.results and self.not_stated):
            return None
        things = [f"the {x}" for x in self.not_stated]
        listed = things[0] if len(things) == 1 else ", ".join(things[:-1]) + " or " + things[-1]
        return f"The documents do not state {listed} for {self.results[0].certification}."

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: {"question", "answered", "results", "not_stated"}, nothing else."""
        return {
            "question": self.question,
            "answered": self.answered,
            "results": [r.to_dict() for r in self.results] if self.answered else [],
            "not_stated": list(self.not_stated) if self.answered else [],
        }
