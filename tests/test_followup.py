"""index/followup.py: a follow-up in a conversation -> the standalone question searched.

On the real seeds' index, whose lexicon says which words are names and which ask for a kind
of fact. Each rule is checked on its words, and the answer the engine gives the rewritten
question is checked against the one the follow-up alone would get, so a rule that stops
mattering fails here.
"""

from __future__ import annotations

import pytest

from index.followup import Earlier, kind_words, rewrite, strip_openers

TRUCS = "Trusted Cloud Services (TRUCS)"
NUMBER_FOR_OBJECT_STORAGE = Earlier("TRUCS certificate number for object storage?", TRUCS)


def top(engine, question: str) -> tuple[str | None, str | None]:
    """The top result's certification and first certificate number (the one matching best)."""
    answer = engine.ask(question)
    if not answer.answered:
        return None, None
    best = answer.results[0]
    return best.certification, best.certificate_numbers[0].number if best.certificate_numbers else None


@pytest.mark.parametrize("typed, left", [
    ("what about block storage?", "block storage"),
    ("And what about block storage", "block storage"),
    ("how about OSPAR?", "OSPAR"),
    ("and OSPAR too?", "OSPAR"),
    ("Also, in Germany?", "in Germany"),
    ("and?", ""),
    ("Android support?", "Android support"),          # a word starting with "and" stays
    ("what about <@U0123> block storage", "block storage"),
])
def test_openers_and_closers_are_stripped(typed: str, left: str) -> None:
    assert strip_openers(typed) == left


def test_a_follow_up_asking_no_kind_inherits_the_earlier_kind_and_certification(engine) -> None:
    follow = rewrite("what about block storage?", NUMBER_FOR_OBJECT_STORAGE, engine)
    assert follow.searched == f"{TRUCS} certificate number for block storage"
    assert follow.asked == "what about block storage?" and follow.earlier == NUMBER_FOR_OBJECT_STORAGE
    assert top(engine, follow.searched) == (TRUCS, "05014")


def test_a_follow_up_naming_a_certification_switches_but_keeps_the_kind(engine) -> None:
    follow = rewrite("what about OSPAR?", NUMBER_FOR_OBJECT_STORAGE, engine)
    assert follow.searched == "certificate number for OSPAR"
    answer = engine.ask(follow.searched)
    assert answer.results[0].certification == "OSPAR"
    assert answer.not_stated == ("certificate number",)   # said plainly, not guessed
    assert rewrite("and MTCS?", Earlier("Are we PCI DSS level 1?", "PCI DSS"), engine).searched \
        == "level for MTCS"


def test_a_follow_up_with_its_own_name_and_kind_stands_alone(engine) -> None:
    follow = rewrite("And are we HIPAA compliant?", NUMBER_FOR_OBJECT_STORAGE, engine)
    assert follow.searched == "are we HIPAA compliant"


def test_a_follow_up_with_its_own_kind_is_asked_about_the_earlier_certification(engine) -> None:
    ospar = Earlier("Do we have OSPAR?", "OSPAR")
    follow = rewrite("who audited it?", ospar, engine)
    assert follow.searched == "who audited OSPAR"       # "it" is the certification
    assert top(engine, follow.searched)[0] == "OSPAR"
    assert top(engine, "who audited it?")[0] != "OSPAR"  # what it would be without the thread

    tisax = Earlier("TISAX assessment level?", "TISAX")
    follow = rewrite("which regions?", tisax, engine)
    assert follow.searched == "which regions for TISAX"  # its own kind: the level is not carried
    assert top(engine, follow.searched)[0] == "TISAX"
    assert not engine.ask("which regions?").answered


def test_context_decides_the_certification_of_a_place(engine) -> None:
    follow = rewrite("and in Germany?", Earlier("TISAX assessment level?", "TISAX"), engine)
    assert follow.searched == "TISAX level in Germany"   # "in": no "for" before it
    assert top(engine, follow.searched)[0] == "TISAX"
    assert top(engine, "and in Germany?")[0] == "BSI C5"


def test_kinds_are_written_as_their_label_or_as_typed(engine) -> None:
    cues = engine.lexicon.cues
    # "When" reads as a date: written as the label "date granted", which reads back the same.
    assert kind_words("When did we get OSPAR?", ["holds", "when"], cues) == ["date granted"]
    # A count has no label: the words typed for it.
    assert kind_words("How many regions have TISAX?", ["count", "where"], cues) == ["How many", "regions"]
    # "Do we have" is every question's default: never carried.
    assert kind_words("Do we have OSPAR?", ["holds"], cues) == []


def test_the_earlier_question_may_itself_be_a_rewritten_follow_up(engine) -> None:
    first = rewrite("what about block storage?", NUMBER_FOR_OBJECT_STORAGE, engine)
    second = rewrite("and cloud hosting?", Earlier(first.searched, TRUCS), engine)
    assert second.searched == f"{TRUCS} certificate number for cloud hosting"
    assert top(engine, second.searched) == (TRUCS, "01018")


def test_a_follow_up_of_openers_only_asks_the_earlier_question_again(engine) -> None:
    assert rewrite("and?", NUMBER_FOR_OBJECT_STORAGE, engine).searched == f"{TRUCS} certificate number"


# --- certdesk ask --after: the same reading on the command line ---------------------------------


def run_cli(args: list[str]) -> tuple[int, str]:
    import io

    from bot.cli import main

    out = io.StringIO()
    return main(args, out=out, stdin=io.StringIO("")), out.getvalue()


def test_ask_after_reads_the_question_as_a_follow_up(env_paths) -> None:
    code, out = run_cli(["ask", "--after", "TISAX assessment level?", "and in Germany?"])
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["Q: and in Germany?",
                         "Follow-up to “TISAX assessment level?” — searched: “TISAX level in Germany”"]
    assert lines[3].startswith("1. TISAX — ")
    code, plain = run_cli(["ask", "and in Germany?"])
    assert code == 0 and "1. BSI C5 — " in plain and "Follow-up" not in plain


def test_ask_after_keeps_the_json_contract(env_paths) -> None:
    import json

    code, out = run_cli(["ask", "--json", "--after", "TRUCS certificate number for object storage",
                         "what about OSPAR?"])
    answer = json.loads(out)
    assert code == 0 and set(answer) == {"question", "answered", "results", "not_stated"}
    assert answer["question"] == "certificate number for OSPAR"
    assert answer["results"][0]["certification"] == "OSPAR" and answer["not_stated"] == ["certificate number"]


@pytest.mark.parametrize("earlier, said", [
    ("  ", "--after needs the earlier question"),
    ("frobnicate the widget", "nothing in the documents answers the earlier question “frobnicate the widget”"),
])
def test_ask_after_an_earlier_question_with_no_answer_is_a_usage_error(env_paths, capsys, earlier, said) -> None:
    code, out = run_cli(["ask", "--after", earlier, "and in Germany?"])
    assert code == 2 and out == ""
    assert said in capsys.readouterr().err
