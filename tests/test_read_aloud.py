"""Answers a sales engineer can read aloud: the asked fact in the passage, 'not stated' said plainly.

Search on the real seeds (the session `engine`), the Answer contract (`not_stated`,
`not_stated_sentence()`, `to_dict()`), the CLI, and the Slack rendering of an Answer built by hand.
"""

from __future__ import annotations

import io
import json
import re

import pytest

from bot.blocks import render_answer
from bot.cli import main
from index.answer import Answer, CertificateNumber, Result

OSPAR_SENTENCE = "The documents do not state the certificate number for OSPAR."


def top(answer: Answer) -> Result:
    assert answer.answered, f"not answered: {answer.question!r}"
    return answer.results[0]


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(args, out=out, stdin=io.StringIO(""))
    return code, out.getvalue()


# --- the Answer contract --------------------------------------------------------------------


def result(certification: str = "OSPAR", passage: str = "Tencent Cloud has obtained the OSPAR attestation.",
           title: str = "OSPAR", numbers: tuple[CertificateNumber, ...] = ()) -> Result:
    return Result(certification=certification, title=title, passage=passage,
                  certificate_numbers=numbers, last_updated="2024-09-03", source="001.txt")


def test_not_stated_is_a_tuple_field_defaulting_to_empty():
    assert Answer(question="q", answered=False).not_stated == ()
    answer = Answer(question="q", answered=True, results=(result(),), not_stated=("auditor",))
    assert answer.not_stated == ("auditor",) and isinstance(answer.not_stated, tuple)


def test_to_dict_always_has_not_stated_as_a_list():
    said = Answer(question="q", answered=True, results=(result(),), not_stated=("certificate number",))
    assert said.to_dict()["not_stated"] == ["certificate number"]
    nothing = Answer(question="q", answered=True, results=(result(),))
    assert nothing.to_dict()["not_stated"] == []
    unanswered = Answer(question="q", answered=False, not_stated=("auditor",))
    assert unanswered.to_dict() == {"question": "q", "answered": False, "results": [], "not_stated": []}
    for a in (said, nothing, unanswered):
        assert set(a.to_dict()) == {"question", "answered", "results", "not_stated"}
        assert isinstance(json.loads(json.dumps(a.to_dict()))["not_stated"], list)


@pytest.mark.parametrize("missing, sentence", [
    (("certificate number",), OSPAR_SENTENCE),
    (("auditor", "date granted"), "The documents do not state the auditor or the date granted for OSPAR."),
    (("auditor", "date granted", "expiry date"),
     "The documents do not state the auditor, the date granted or the expiry date for OSPAR."),
])
def test_not_stated_sentence(missing, sentence):
    answer = Answer(question="q", answered=True, results=(result(), result("MTCS")), not_stated=missing)
    assert answer.not_stated_sentence() == sentence


def test_no_not_stated_sentence_when_nothing_is_missing_or_nothing_answered():
    assert Answer(question="q", answered=True, results=(result(),)).not_stated_sentence() is None
    assert Answer(question="q", answered=False, not_stated=("auditor",)).not_stated_sentence() is None
    assert Answer(question="q", answered=True, results=(), not_stated=("auditor",)).not_stated_sentence() is None


# --- search on the real seeds ---------------------------------------------------------------


def test_ospar_certificate_number_is_said_not_stated(engine):
    answer = engine.ask("OSPAR certificate number")
    assert top(answer).certification == "OSPAR"
    assert all(r.certificate_numbers == () for r in answer.results)
    assert "certificate number" in answer.not_stated
    assert answer.not_stated_sentence() == OSPAR_SENTENCE
    assert answer.to_dict()["not_stated"] == ["certificate number"]


def test_hipaa_baa_is_said_not_stated(engine):
    answer = engine.ask("do we sign a HIPAA BAA")
    assert top(answer).certification == "HIPAA"
    assert "BAA" in answer.not_stated


def test_tisax_auditor_is_said_not_stated(engine):
    answer = engine.ask("who audited our TISAX")
    assert top(answer).certification == "TISAX"
    assert "auditor" in answer.not_stated


def test_pci_dss_assessor_is_quoted_and_nothing_said_missing(engine):
    answer = engine.ask("who assessed our PCI DSS certification")
    assert top(answer).certification == "PCI DSS"
    assert "ATSEC" in top(answer).passage
    assert answer.not_stated == ()


def test_count_question_quotes_the_count(engine):
    answer = engine.ask("how many IDCs passed tisax?")
    assert top(answer).certification == "TISAX"
    assert "15 IDCs" in top(answer).passage


def test_level_question_quotes_the_level(engine):
    answer = engine.ask("What level of MTCS does Tencent Cloud hold?")
    assert "MTCS" in top(answer).certification
    assert "Level-3" in top(answer).passage
    assert answer.not_stated == ()


def test_chinese_when_question_quotes_the_date(engine):
    answer = engine.ask("数据安全 C5 什么时候通过")
    assert "C5" in top(answer).certification
    assert "August 31, 2020" in top(answer).passage
    assert answer.not_stated == ()


def test_bare_name_quotes_what_the_company_has_not_the_definition(engine):
    answer = engine.ask("gxp")
    assert top(answer).certification == "GxP"
    assert "GxP compliance white paper" in top(answer).passage


def test_a_standard_nobody_states_is_not_answered(engine):
    answer = engine.ask("ISO 22301 business continuity certificate?")
    assert not answer.answered and answer.results == () and answer.to_dict()["not_stated"] == []


def test_a_standard_listed_in_another_section_is_answered_from_it(engine):
    answer = engine.ask("ISO 27017?")
    assert "MPAA" in top(answer).certification or "MPAA" in top(answer).title
    assert "ISO 27017" in top(answer).passage


def test_singapore_bank_gets_ospar_first(engine):
    answer = engine.ask("anything for a Singapore bank?")
    assert top(answer).certification == "OSPAR"


# --- the command line -----------------------------------------------------------------------


def test_cli_prints_the_not_stated_sentence(env_paths):
    code, out = run(["ask", "ospar certificate number"])
    assert code == 0
    assert OSPAR_SENTENCE in out
    # Said before the quote it qualifies.
    assert out.index(OSPAR_SENTENCE) < out.index("1. OSPAR")


def test_cli_json_has_not_stated(env_paths):
    code, out = run(["ask", "--json", "ospar certificate number"])
    assert code == 0
    (line,) = out.splitlines()
    data = json.loads(line)
    assert data["not_stated"] == ["certificate number"]
    assert data["results"][0]["certification"] == "OSPAR"
    assert data["results"][0]["certificate_numbers"] == []


def test_cli_says_nothing_missing_when_the_fact_is_stated(env_paths):
    code, out = run(["ask", "who assessed our PCI DSS certification"])
    assert code == 0 and "ATSEC" in out and "do not state" not in out
    code, out = run(["ask", "--json", "who assessed our PCI DSS certification"])
    assert json.loads(out)["not_stated"] == []


# --- Slack rendering ------------------------------------------------------------------------


def ospar_answer(not_stated: tuple[str, ...] = ("certificate number",), *more: Result) -> Answer:
    return Answer(question="ospar certificate number", answered=True,
                  results=(result(), *more), not_stated=not_stated)


def section_texts(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] if b["type"] == "section" else "" for b in blocks]


def test_slack_says_not_stated_right_after_the_first_passage():
    message = render_answer(ospar_answer(("certificate number",), result("MTCS", "MTCS Level-3.", "MTCS")))
    texts = section_texts(message.blocks)
    passage = texts.index(">Tencent Cloud has obtained the OSPAR attestation.")
    following = message.blocks[passage + 1]
    assert following["type"] == "section"
    assert OSPAR_SENTENCE in following["text"]["text"]
    # Once, under the first result only.
    assert sum(OSPAR_SENTENCE in t for t in texts) == 1
    assert texts.index(">MTCS Level-3.") > passage + 1
    assert OSPAR_SENTENCE in message.text


def test_slack_has_no_not_stated_block_when_nothing_is_missing():
    message = render_answer(ospar_answer(()))
    texts = section_texts(message.blocks)
    passage = texts.index(">Tencent Cloud has obtained the OSPAR attestation.")
    assert message.blocks[passage + 1]["type"] == "context"
    assert not any("do not state" in t for t in texts)
    assert "do not state" not in message.text


def test_slack_not_stated_block_is_escaped():
    answer = Answer(question="q", answered=True, results=(result("C5 <!here> & R&D"),),
                    not_stated=("auditor",))
    message = render_answer(answer)
    block = next(t for t in section_texts(message.blocks) if "do not state" in t)
    assert "<!here>" not in block and "&lt;!here&gt;" in block and "R&amp;D" in block


def test_slack_fallback_text_with_not_stated_is_escaped():
    answer = Answer(question="q", answered=True, results=(result("C5 <!here> & R&D"),),
                    not_stated=("auditor",))
    text = render_answer(answer).text
    assert "do not state the auditor" in text
    assert "<" not in text and not re.search(r"&(?!amp;|lt;|gt;)", text)
