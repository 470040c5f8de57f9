"""The vocabulary of data/: which kind of fact a question asks, and which sentences state it."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.analysis import plain_tokens
from index.asks import Cues, SentenceMarker, raw_asks
from index.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def asks():
    return load_catalog(ROOT / "data").vocabulary.asks


def _asked(asks, question: str) -> list[str]:
    kinds, _ = Cues.from_raw(raw_asks(asks)).asked(question, plain_tokens(question))
    return kinds


def _states(asks, sentence: str) -> frozenset[str]:
    return SentenceMarker(asks, ("Contoso",)).kinds(sentence)


@pytest.mark.parametrize("question, kind", [
    ("audited or just us saying so?", "auditor"),
    ("is it third party audited?", "auditor"),
    ("which audit standard did they use", "basis"),
    ("what is it based on", "basis"),
    ("can we share the audit report", "access"),
    ("where do i get the certificate", "access"),
])
def test_questions_ask_for_their_kind_of_fact(asks, question: str, kind: str):
    assert kind in _asked(asks, question)


def test_what_we_provide_is_not_asking_how_to_get_a_report(asks):
    assert "access" not in _asked(asks, "hipaa - what do we actually provide")


@pytest.mark.parametrize("sentence, kind", [
    ("Contoso Vault complies with the model through self-assessment.", "auditor"),
    ("The audit approach follows the ISAE3000 guidelines issued by IAASB.", "basis"),
    ("C5 is based on ISO/IEC 27001:2013 and the CSA Cloud Controls Matrix.", "basis"),
    ("Customers can obtain a copy of the Contoso audit report.", "access"),
    ("To view them, use the compliance portal.", "access"),
])
def test_sentences_state_their_kind_of_fact(asks, sentence: str, kind: str):
    assert kind in _states(asks, sentence)


def test_the_company_obtaining_a_certificate_is_not_how_customers_get_a_report(asks):
    assert "access" not in _states(asks, "Contoso has obtained the OSPAR attestation since June 2020.")


def test_how_to_get_it_is_asked_in_the_words_of_a_call(asks):
    assert "access" in _asked(asks, "malaysia audit report - can cust get it?")


def test_customers_obtaining_a_report_further_down_the_sentence_is_how_to_get_it(asks):
    sentence = ("Customers can also learn about Contoso's security controls in the financial "
                "services by obtaining a Contoso audit report.")
    assert "access" in _states(asks, sentence)


@pytest.mark.parametrize("sentence", [
    "OneDrive for Business is PCI-DSS compliant only in the United States.",
    "Contoso Relay is not yet certified outside the EU.",
])
def test_places_named_after_in_state_regions(asks, sentence: str):
    assert "where" in _states(asks, sentence)


def test_when_it_expires_asks_one_thing_and_two_whens_ask_two(asks):
    assert _asked(asks, "when does it expire") == ["expiry"]
    assert {"when", "expiry"} <= set(_asked(asks, "kisms - when did we get it and when does it expire"))


def test_someone_elses_auditor_does_not_ask_who_audited_us(asks):
    assert "auditor" not in _asked(asks, "customer's auditor wants KMS's SOC 2 - do we have it?")
    assert "auditor" not in _asked(asks, "their auditor needs our pci aoc")
    assert "auditor" in _asked(asks, "who is our auditor for pci?")


def test_who_runs_a_programme_is_not_who_audited(asks):
    sentence = "The Kite Assessment Program is an assessment program administered by the Japanese government."
    assert "auditor" not in _states(asks, sentence)
    assert "auditor" in _states(asks, "Contoso Vault was assessed by Northwind Assurance in 2024.")


@pytest.mark.parametrize("question", ["secrets manager fedramp - moderate or high?", "gold or silver?",
                                      "basic/advanced for itss"])
def test_two_grades_offered_ask_which_level(asks, question: str):
    assert "level" in _asked(asks, question)


@pytest.mark.parametrize("question", ["japanese ministry wants to procure cloud, anything for gov procurement there?",
                                      "what is mtcs level 1 meant for", "nz gov customer - can they lean on it?"])
def test_who_it_is_for_is_asked(asks, question: str):
    assert "applies" in _asked(asks, question)


def test_signing_something_for_a_law_is_not_asking_who_it_is_for(asks):
    assert "applies" not in _asked(asks, "would we sign anything for HIPAA, like a BAA?")


@pytest.mark.parametrize("sentence", [
    "The certification is required for all entities hosting personal health data governed by French law.",
    "New Zealand agencies may also use the IRAP assessments.",
    "Level 1 is suitable for web site hosting and test and development work.",
])
def test_who_it_is_for_is_stated(asks, sentence: str):
    assert "applies" in _states(asks, sentence)


@pytest.mark.parametrize("question", ["is spacelift fedramp authorized", "are the HSMs pci compliant?"])
def test_is_it_questions_ask_whether_we_hold_it(asks, question: str):
    assert "holds" in _asked(asks, question)


def test_a_list_of_documents_covering_a_product_says_what_it_holds(asks):
    assert "holds" in _states(asks, "The following compliance and security documents cover AWS KMS.")
    assert "holds" not in _states(asks, "The report covers controls as of February 28th, 2023.")


def test_a_date_written_with_slashes_states_when(asks):
    assert "when" in _states(asks, "Contoso Vault was certified 07/31/2024.")


def test_a_clause_number_is_not_a_version(asks):
    assert "version" not in _asked(asks, "how do we cover responsibility and authority (5.5.1) for iso 9001")
    assert "version" not in _asked(asks, "clause 6.1 for iso 9001?")
    assert "version" in _asked(asks, "pci 3.2.1 or 4.0?")


@pytest.mark.parametrize("question", ["ITSS is under which ministry?", "who maintains the guidance",
                                      "overseen by which agency?"])
def test_who_runs_it_is_asked(asks, question: str):
    assert "who" in _asked(asks, question)


# --- the shortcut that skips patterns which cannot match (index/literals.py) ------------------


@pytest.mark.parametrize("pattern, words", [
    (r"(?i)\b(?:January|March)\b", {"january", "march"}),
    (r"\b\d{4}-\d\d-\d\d\b", {"-"}),
    (r"(?i)\bthe following\b[^.]{0,80}\bcover", {"the following"}),
    (r"\b(?:[Ll]ocated|[Hh]osted)\s+in", {"ocated", "osted"}),
    (r"(?:up)?on|x", {"on", "x"}),
    (r"(?:up)?on|\d", None),             # an alternative requiring nothing: always run
    (r"\w+\s+\d", None),
])
def test_the_words_a_pattern_cannot_match_without(pattern: str, words):
    import re

    from index.literals import required_words

    assert required_words(re.compile(pattern)) == (frozenset(words) if words else None)


def test_skipping_patterns_never_changes_what_a_sentence_states(asks):
    """Every sentence of the repository's corpora is marked the same with and without the
    shortcut: it only skips patterns that could not have matched."""
    import index.asks as module
    from index.ingest import load_sections
    from index.passages import split_sentences

    catalog = load_catalog(ROOT / "data")
    texts = [s for folder in ("seeds", "tests/corpus/real", "tests/corpus/holdout3")
             for section in load_sections(ROOT / folder, catalog)[0]
             for block in section.blocks for s in [block.text, *split_sentences(block.text)]]
    marker = SentenceMarker(asks, ("Contoso",), ("Tencent", "Microsoft", "AWS"))
    fast = [marker.kinds(t) for t in texts]
    original, module.may_match = module.may_match, lambda words, lowered: True
    try:
        assert [marker.kinds(t) for t in texts] == fast
    finally:
        module.may_match = original
