"""`certdesk eval`: the question file's rules, and the figures it prints.

Tiny evaluation files are written in tmp_path, one question per rule, and asked against the
session index of the real seeds (`env_paths`); the printed figures are the assertions. The
scoring function is also fed hand-built Answers, for checks search never fails on its own
(a passage that is not verbatim, a number not in the source).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli import main
from index.answer import Answer, CertificateNumber, Result
from index.errors import DataError
from index.evaluation import Report, SourceTexts, load_questions, score

ROOT = Path(__file__).resolve().parent.parent
REGION = "001_f1959257ed4868ff.txt"


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(args, out=out, stdin=io.StringIO(""))
    return code, out.getvalue()


def evaluate(tmp_path: Path, yaml_text: str) -> tuple[int, str]:
    f = tmp_path / "q.yaml"
    f.write_text(yaml_text, encoding="utf-8")
    return run(["eval", str(f)])


def figures(out: str) -> dict[str, str]:
    """The totals lines, 'name: value', as printed after the misses."""
    lines = [line for line in out.splitlines() if not line.startswith("MISS ")]
    return dict(line.split(": ", 1) for line in lines if ": " in line)


# --- the report's lines ---------------------------------------------------------------------


def test_report_prints_the_read_aloud_lines(env_paths, tmp_path):
    code, out = evaluate(tmp_path, '- q: "how many IDCs passed tisax?"\n  expect: ["tisax"]\n  contains: "15 IDCs"\n')
    assert code == 0, out
    got = figures(out)
    assert got["not stated, said plainly"] == "100.0% (0/0)"
    assert got["'not stated' said of a stated fact"] == "0"
    assert got["safe to read"] == "100.0% (1/1)"
    assert got["facts in passage"] == "100.0% (1/1)"
    assert "MISS" not in out


# --- contains -------------------------------------------------------------------------------


def test_contains_as_a_string_that_fails_makes_the_question_unsafe(env_paths, tmp_path):
    code, out = evaluate(tmp_path, '- q: "how many IDCs passed tisax?"\n  expect: ["tisax"]\n'
                                   '  contains: "16 IDCs"\n')
    assert code == 1
    got = figures(out)
    assert got["top-1"] == "100.0% (1/1)"
    assert got["facts in passage"] == "0.0% (0/1)"
    assert got["safe to read"] == "0.0% (0/1)"
    assert "MISS fact: 'how many IDCs passed tisax?' passage lacks ['16 IDCs']" in out


def test_contains_as_a_list_requires_every_item(env_paths, tmp_path):
    code, out = evaluate(tmp_path, """
- q: "how many IDCs passed tisax?"
  expect: ["tisax"]
  contains: ["15 IDCs", "Beijing, Shenzhen"]
- q: "which regions r covered by tisax"
  expect: ["tisax"]
  contains: ["15 IDCs", "Atlantis"]
""")
    assert code == 1
    got = figures(out)
    assert got["facts in passage"] == "50.0% (1/2)"
    assert got["safe to read"] == "50.0% (1/2)"
    assert "passage lacks ['Atlantis']" in out          # only the missing item is named
    assert "passage lacks ['15 IDCs'" not in out


def test_contains_is_case_and_whitespace_insensitive(env_paths, tmp_path):
    code, out = evaluate(tmp_path, '- q: "how many IDCs passed tisax?"\n  contains: "15   idcs OF tencent   cloud"\n')
    assert code == 0, out
    assert figures(out)["safe to read"] == "100.0% (1/1)"


# --- not_stated -----------------------------------------------------------------------------


def test_not_stated_said_plainly_is_safe(env_paths, tmp_path):
    code, out = evaluate(tmp_path, """
- q: "OSPAR certificate number"
  expect: ["ospar"]
  numbers: []
  not_stated: ["certificate number"]
""")
    assert code == 0, out
    got = figures(out)
    assert got["not stated, said plainly"] == "100.0% (1/1)"
    assert got["certificate numbers exact"] == "100.0% (1/1)"
    assert got["safe to read"] == "100.0% (1/1)"


def test_not_stated_that_the_answer_does_not_say_is_unsafe(env_paths, tmp_path):
    code, out = evaluate(tmp_path, """
- q: "how many IDCs passed tisax?"
  expect: ["tisax"]
  contains: "15 IDCs"
  not_stated: ["auditor"]
""")
    assert code == 1
    got = figures(out)
    assert got["facts in passage"] == "100.0% (1/1)"
    assert got["not stated, said plainly"] == "0.0% (0/1)"
    assert got["safe to read"] == "0.0% (0/1)"
    assert "MISS not stated: 'how many IDCs passed tisax?' does not say ['auditor'] is not stated" in out


def test_saying_not_stated_without_a_label_counts_against_safe(env_paths, tmp_path):
    code, out = evaluate(tmp_path, '- q: "OSPAR certificate number"\n  expect: ["ospar"]\n')
    assert code == 1
    got = figures(out)
    assert got["top-1"] == "100.0% (1/1)"
    assert got["not stated, said plainly"] == "100.0% (0/0)"
    assert got["'not stated' said of a stated fact"] == "1"
    assert got["safe to read"] == "0.0% (0/1)"
    assert "says ['certificate number'] is not stated" in out


def test_not_stated_and_contains_must_both_pass(env_paths, tmp_path):
    code, out = evaluate(tmp_path, """
- q: "who audited our TISAX"
  expect: ["tisax"]
  not_stated: ["auditor"]
  contains: "an auditor named in no document"
""")
    assert code == 1
    got = figures(out)
    assert got["not stated, said plainly"] == "100.0% (1/1)"
    assert got["facts in passage"] == "0.0% (0/1)"
    assert got["safe to read"] == "0.0% (0/1)"


# --- the other checks that make a question unsafe -------------------------------------------


def test_wrong_top_result_is_unsafe_even_with_the_fact_in_the_passage(env_paths, tmp_path):
    code, out = evaluate(tmp_path, '- q: "how many IDCs passed tisax?"\n  expect: ["hipaa"]\n  contains: "15 IDCs"\n')
    assert code == 1
    got = figures(out)
    assert got["top-1"] == "0.0% (0/1)" and got["facts in passage"] == "100.0% (1/1)"
    assert got["safe to read"] == "0.0% (0/1)"


@pytest.mark.parametrize("numbers, safe", [('["02016"]', "100.0% (1/1)"), ('["05014"]', "0.0% (0/1)"),
                                           ("[]", "0.0% (0/1)")])
def test_certificate_numbers_decide_safe(env_paths, tmp_path, numbers, safe):
    code, out = evaluate(tmp_path, f'- q: "TRUCS certificate number for object storage"\n  numbers: {numbers}\n')
    assert figures(out)["safe to read"] == safe
    assert code == (0 if safe.startswith("100") else 1)


def test_out_of_scope_questions(env_paths, tmp_path):
    code, out = evaluate(tmp_path, """
- q: "ISO 22301 business continuity certificate?"
  answered: false
- q: "TISAX level"
  answered: false
""")
    assert code == 1
    got = figures(out)
    assert got["out-of-scope abstained"] == "50.0% (1/2)"
    assert got["safe to read"] == "50.0% (1/2)"
    assert "MISS answered an out-of-scope question: 'TISAX level'" in out


def test_one_question_per_rule_totals(env_paths, tmp_path):
    code, out = evaluate(tmp_path, """
- q: "how many IDCs passed tisax?"                 # safe
  expect: ["tisax"]
  contains: ["15 IDCs", "Level 3"]
- q: "OSPAR certificate number"                   # safe: said plainly, no number
  expect: ["ospar"]
  numbers: []
  not_stated: ["certificate number"]
- q: "ISO 22301 business continuity certificate?" # safe: not answered
  answered: false
- q: "who assessed our PCI DSS certification"     # unsafe: a fact it does not quote
  expect: ["pci"]
  contains: "Deloitte"
- q: "do we sign a HIPAA BAA"                      # unsafe: 'BAA' not stated, but not labelled
  expect: ["hipaa"]
""")
    assert code == 1
    got = figures(out)
    assert "5 questions from 1 file(s)" in out
    assert got["top-1"] == "100.0% (4/4)"
    assert got["facts in passage"] == "50.0% (1/2)"
    assert got["not stated, said plainly"] == "100.0% (1/1)"
    assert got["'not stated' said of a stated fact"] == "1"
    assert got["out-of-scope abstained"] == "100.0% (1/1)"
    assert got["safe to read"] == "60.0% (3/5)"
    assert got["passages not verbatim"] == "0" and got["numbers not present in source"] == "0"


# --- the question file ----------------------------------------------------------------------


def test_contains_and_not_stated_load_as_tuples(tmp_path):
    f = tmp_path / "q.yaml"
    f.write_text('- q: "a"\n  contains: "one"\n  not_stated: ["auditor", "BAA"]\n'
                 '- q: "b"\n  contains: ["x", "y"]\n- q: "c"\n  contains: 15\n', encoding="utf-8")
    a, b, c = load_questions(f)
    assert a.contains == ("one",) and a.not_stated == ("auditor", "BAA")
    assert b.contains == ("x", "y") and b.not_stated == ()
    assert c.contains == ("15",)


@pytest.mark.parametrize("entry", ['  contains: {a: b}\n', '  not_stated: [[auditor]]\n',
                                   '  not_stated: {auditor: yes}\n', '  notstated: [auditor]\n'])
def test_malformed_contains_or_not_stated_is_a_data_error_with_file_and_line(tmp_path, entry):
    f = tmp_path / "q.yaml"
    f.write_text('- q: "fine"\n- q: "broken"\n' + entry, encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_questions(f)
    message = str(err.value)
    assert message.startswith(f"{f}:") and message.split(":", 2)[1] in ("2", "3"), message


def test_malformed_question_file_stops_eval_with_exit_1(env_paths, tmp_path, capsys):
    code, out = evaluate(tmp_path, '- q: "broken"\n  contains: {a: b}\n')
    assert code == 1 and "contains must be a text or a list of texts" in capsys.readouterr().err


# --- scoring hand-built answers -------------------------------------------------------------


def _question(**kw):
    from index.evaluation import EvalQuestion
    return EvalQuestion(q="tisax idcs", **kw)


def _answer(passage: str, numbers=(), not_stated=()) -> Answer:
    return Answer(question="tisax idcs", answered=True, not_stated=not_stated, results=(Result(
        certification="TISAX", title="TISAX", passage=passage, certificate_numbers=tuple(numbers),
        source=REGION, sources=(REGION,)),))


@pytest.fixture(scope="module")
def sources() -> SourceTexts:
    return SourceTexts(ROOT / "seeds")


VERBATIM = "Currently, 15 IDCs of Tencent Cloud including those located in Beijing, Shenzhen"


def test_verbatim_passage_with_no_other_check_is_safe(sources):
    report = Report()
    score(_question(expect=("tisax",)), _answer(VERBATIM), report, sources)
    assert (report.safe.passed, report.safe.total, report.not_verbatim) == (1, 1, 0)


def test_a_passage_not_in_the_source_is_unsafe(sources):
    report = Report()
    score(_question(expect=("tisax",), contains=("15 IDCs",)),
          _answer("Currently, 15 IDCs of Tencent Cloud passed everything"), report, sources)
    assert report.facts.passed == 1                     # the fact is there ...
    assert report.not_verbatim == 1                     # ... but not as the source says it
    assert (report.safe.passed, report.safe.total) == (0, 1)
    assert "safe to read: 0.0% (0/1)" in report.lines() and not report.perfect


def test_a_number_not_in_the_source_is_unsafe(sources):
    report = Report()
    score(_question(expect=("tisax",)), _answer(VERBATIM, numbers=[CertificateNumber("TISAX", "TX-99999")]),
          report, sources)
    assert report.numbers_not_in_source == 1
    assert (report.safe.passed, report.safe.total) == (0, 1)


def test_not_stated_names_match_case_insensitively_and_by_containment(sources):
    report = Report()
    score(_question(expect=("tisax",), not_stated=("Certificate Number",)),
          _answer(VERBATIM, not_stated=("certificate number",)), report, sources)
    score(_question(expect=("tisax",), not_stated=("auditor",)),
          _answer(VERBATIM, not_stated=("auditor", "date granted")), report, sources)
    assert (report.not_stated.passed, report.not_stated.total) == (2, 2)
    assert (report.safe.passed, report.safe.total) == (2, 2)


def test_an_unanswered_question_that_should_be_answered_says_nothing_is_missing(sources):
    report = Report()
    score(_question(expect=("tisax",), not_stated=("auditor",)),
          Answer(question="tisax idcs", answered=False, not_stated=("auditor",)), report, sources)
    assert (report.top1.passed, report.not_stated.passed, report.safe.passed) == (0, 0, 0)
    assert report.safe.total == 1
