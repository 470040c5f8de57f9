"""Measure answers against evaluation questions (data/eval/*.yaml).

Scoring rules (from the dev file's header): the top result's certification or title must
contain one of `expect`; its numbers must start with `numbers` (an empty list: none at all);
its passage must contain `contains` (a list: every item); `answered: false` questions must get
no answer. `not_stated` lists what the question asks that the documents do not state: the
answer must name each, and a question without it must get an answer that names nothing as
missing. On top of that, every passage must be verbatim from its source and every number must
be in the source. A question is *safe to read* only when every check that applies to it passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .answer import Answer
from .catalog import DataError, check_keys, read_yaml_file
from .ingest import visible_text
from .readers import ReadError


@dataclass(frozen=True)
class EvalQuestion:
    q: str
    expect: tuple[str, ...] = ()
    numbers: tuple[str, ...] | None = None
    contains: tuple[str, ...] = ()
    not_stated: tuple[str, ...] = ()
    answered: bool = True
    where: str = ""


def load_questions(path: Path) -> list[EvalQuestion]:
    doc = read_yaml_file(path)
    if not isinstance(doc, list):
        raise DataError(path, getattr(doc, "line", None), "an evaluation file is a list of questions")
    items = []
    for entry in doc:
        check_keys(entry, ("q", "expect", "numbers", "contains", "not_stated", "answered"), path,
                   "a question", required=("q",))
        line = entry.key_lines.get("q") if hasattr(entry, "key_lines") else None
        expect = entry.get("expect") or []
        numbers = entry.get("numbers")
        answered = entry.get("answered", True)
        if not isinstance(expect, list) or (numbers is not None and not isinstance(numbers, list)) \
                or not isinstance(answered, bool):
            raise DataError(path, line, "expect and numbers must be lists, answered true or false")
        items.append(EvalQuestion(
            q=str(entry["q"]), expect=tuple(str(e) for e in expect),
            numbers=None if numbers is None else tuple(str(n) for n in numbers),
            contains=_strings(entry.get("contains"), path, line, "contains"),
            not_stated=_strings(entry.get("not_stated"), path, line, "not_stated"),
            answered=answered, where=f"{path}:{line}",
        ))
    return items


def _strings(value: object, path: Path, line: int | None, key: str) -> tuple[str, ...]:
    """A text or a list of texts (every one required)."""
    if value is None:
        return ()
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise DataError(path, line, f"{key} must be a text or a list of texts")


def _fold(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Measure:
    passed: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.passed += bool(ok)

    def __str__(self) -> str:
        pct = 100.0 * self.passed / self.total if self.total else 100.0
        return f"{pct:.1f}% ({self.passed}/{self.total})"

    @property
    def perfect(self) -> bool:
        return self.passed == self.total


@dataclass
class Report:
    top1: Measure = field(default_factory=Measure)
    facts: Measure = field(default_factory=Measure)
    numbers: Measure = field(default_factory=Measure)
    abstained: Measure = field(default_factory=Measure)
    not_stated: Measure = field(default_factory=Measure)
    safe: Measure = field(default_factory=Measure)
    not_stated_wrongly: int = 0
    not_verbatim: int = 0
    numbers_not_in_source: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def perfect(self) -> bool:
        return (self.top1.perfect and self.facts.perfect and self.numbers.perfect
                and self.abstained.perfect and self.not_stated.perfect and self.safe.perfect
                and not self.not_stated_wrongly and not self.not_verbatim
                and not self.numbers_not_in_source)

    def lines(self) -> list[str]:
        return [
            f"top-1: {self.top1}",
            f"facts in passage: {self.facts}",
            f"certificate numbers exact: {self.numbers}",
            f"out-of-scope abstained: {self.abstained}",
            f"not stated, said plainly: {self.not_stated}",
            f"'not stated' said of a stated fact: {self.not_stated_wrongly}",
            f"safe to read: {self.safe}",
            f"passages not verbatim: {self.not_verbatim}",
            f"numbers not present in source: {self.numbers_not_in_source}",
        ]


class SourceTexts:
    """What a reader sees of each seed file (its reader's visible text), folded, read once."""

    def __init__(self, seeds_dir: Path):
        self.seeds_dir = seeds_dir
        self._cache: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self._cache:
            path = self.seeds_dir / name
            try:
                self._cache[name] = _fold(visible_text(path)) if path.is_file() else ""
            except ReadError:
                self._cache[name] = ""
        return self._cache[name]


def check_answer(answer: Answer, sources: SourceTexts) -> tuple[int, int]:
    """(passages not verbatim, numbers not in source) for one answer."""
    bad_passages = bad_numbers = 0
    for r in answer.results:
        texts = [sources[s] for s in (r.sources or (r.source,))]
        # " … " marks left-out text, " · " the next table cell or list item: every piece
        # between them must be the source's own words.
        for piece in re.split(r" … | · ", r.passage):
            if not any(_fold(piece) in t for t in texts):
                bad_passages += 1
        for n in r.certificate_numbers:
            if not any(re.search(rf"(?<![\w-]){re.escape(n.number)}(?![\w-])", t) for t in texts):
                bad_numbers += 1
    return bad_passages, bad_numbers


def _names(missing: str, said: tuple[str, ...]) -> bool:
    wanted = _fold(missing).lower()
    return any(wanted in _fold(x).lower() or _fold(x).lower() in wanted for x in said)


def score(item: EvalQuestion, answer: Answer, report: Report, sources: SourceTexts) -> None:
    """Add one question's outcome to the report; describe any miss."""
    top = answer.results[0] if answer.answered and answer.results else None
    got = f"{top.certification} / {top.title}" if top else "no answer"
    if not item.answered:
        report.abstained.add(top is None)
        report.safe.add(top is None)
        if top is not None:
            report.misses.append(f"answered an out-of-scope question: {item.q!r} -> {got}")
        return
    safe = True
    named = top is not None and (not item.expect or any(
        e.lower() in f"{top.certification}\n{top.title}".lower() for e in item.expect))
    report.top1.add(named)
    safe &= named
    if not named:
        report.misses.append(f"top-1: {item.q!r} -> {got}; expected one of {list(item.expect)}")
    if item.contains:
        passage = _fold(top.passage).lower() if top else ""
        lacking = [c for c in item.contains if _fold(c).lower() not in passage]
        report.facts.add(not lacking)
        safe &= not lacking
        if lacking:
            report.misses.append(f"fact: {item.q!r} passage lacks {lacking}: "
                                 f"{top.passage[:200] if top else ''!r}")
    if item.numbers is not None:
        have = [n.number for n in top.certificate_numbers] if top else []
        want = list(item.numbers)
        ok = top is not None and (have[:len(want)] == want if want else not have)
        report.numbers.add(ok)
        safe &= ok
        if not ok:
            report.misses.append(f"numbers: {item.q!r} -> {have[:5]}; expected {want}")
    said = answer.not_stated if top else ()
    if item.not_stated:
        unsaid = [m for m in item.not_stated if not _names(m, said)]
        report.not_stated.add(not unsaid)
        safe &= not unsaid
        if unsaid:
            report.misses.append(f"not stated: {item.q!r} does not say {unsaid} is not stated "
                                 f"(said {list(said)})")
    elif said:
        report.not_stated_wrongly += 1
        safe = False
        report.misses.append(f"not stated: {item.q!r} says {list(said)} is not stated, "
                             "but the question is answered by the documents")
    bad_passages, bad_numbers = check_answer(answer, sources)
    report.not_verbatim += bad_passages
    report.numbers_not_in_source += bad_numbers
    safe &= not (bad_passages or bad_numbers)
    report.safe.add(safe)
    if bad_passages or bad_numbers:
        report.misses.append(f"source: {item.q!r} has {bad_passages} non-verbatim passages, "
                             f"{bad_numbers} numbers not in its source")
