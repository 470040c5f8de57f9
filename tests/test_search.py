"""Search behaviour on the real seeds: what a sales engineer asking would see."""

from __future__ import annotations

import json

import pytest

from index.answer import Answer
from index.query import clean_question, osa_distance


def top(answer: Answer):
    assert answer.answered, f"not answered: {answer.question!r}"
    return answer.results[0]


def numbers(answer: Answer) -> list[str]:
    return [n.number for n in top(answer).certificate_numbers]


def test_json_contract_is_exact(engine):
    data = json.loads(json.dumps(engine.ask("TRUCS certificate number for object storage").to_dict()))
    assert set(data) == {"question", "answered", "results", "not_stated"}
    assert data["not_stated"] == []
    assert data["answered"] is True and 1 <= len(data["results"]) <= 3
    for r in data["results"]:
        assert set(r) == {"certification", "title", "passage", "certificate_numbers",
                          "last_updated", "source", "score"}
        assert all(set(n) == {"label", "number"} for n in r["certificate_numbers"])
        assert r["last_updated"] is None or len(r["last_updated"]) == 10
        assert isinstance(r["score"], float) and isinstance(r["passage"], str) and r["passage"]
    assert data["results"][0]["certificate_numbers"][0] == {"label": "Cloud Object Storage Services",
                                                            "number": "02016"}


def test_unanswered_json_has_no_results(engine):
    data = engine.ask("Do we have FedRAMP High authorization?").to_dict()
    assert data == {"question": "Do we have FedRAMP High authorization?", "answered": False, "results": [],
                    "not_stated": []}


def test_named_service_number_comes_first_and_passage_quotes_it(engine):
    answer = engine.ask("TRUCS cert no for block storage")
    assert numbers(answer)[0] == "05014"
    assert "Block Storage Services No: 05014" in top(answer).passage


@pytest.mark.parametrize("question, first", [
    ("trusted cloud number for COS", "02016"),
    ("trusted cloud CVM certificate", "01018"),
    ("CLB trusted cloud", "10003"),
    ("TKE trusted cloud number", "04011"),
    ("可信云 对象存储 证书编号", "02016"),
])
def test_product_names_pick_their_line(engine, question, first):
    assert numbers(engine.ask(question))[0] == first


def test_asking_for_all_numbers_lists_all(engine):
    assert len(numbers(engine.ask("list all trusted cloud certificate numbers"))) == 11


def test_no_numbers_when_the_section_states_none(engine):
    answer = engine.ask("PCI DSS certificate number")
    assert top(answer).certification == "PCI DSS" and top(answer).certificate_numbers == ()


def test_numbers_are_not_shown_when_not_asked_about(engine):
    assert top(engine.ask("what does the trusted cloud evaluation comprise")).certificate_numbers == ()


@pytest.mark.parametrize("typo, name", [("ospra", "OSPAR"), ("fics", "FISC"), ("nist cfs", "NIST CSF")])
def test_typos_in_names_are_corrected_and_said(engine, typo, name):
    answer = engine.ask(typo)
    assert top(answer).certification.startswith(name)
    assert answer.corrections


def test_transposition_is_one_edit():
    assert osa_distance("ospra", "ospar") == 1
    assert osa_distance("ismap", "isms") == 2


def test_distance_beyond_the_limit_is_said_as_limit_plus_one():
    assert osa_distance("certification", "encryption", 2) == 3
    assert osa_distance("abcdef", "badcfe", 2) == 3        # three swaps
    assert osa_distance("badc", "abcd", 2) == 2             # two swaps


def test_without_swaps_a_transposition_is_two_edits():
    assert osa_distance("ospra", "ospar", swaps=False) == 2
    assert osa_distance("badc", "abcd", 2, swaps=False) == 3


def test_spelling_correction_finds_the_closest_frequent_word(engine):
    assert engine._correct("certifcate") == "certificate"      # one letter left out
    assert engine._correct("encyrption") == "encryption"       # a swap
    assert engine._correct("qqqqqqq") is None


def test_unknown_acronym_is_not_corrected_into_a_known_one(engine):
    assert not engine.ask("ISMAP").answered
    assert not engine.ask("Do we have ISMAP for Japan?").answered


def test_corrected_word_never_outranks_exact_one(engine):
    plan = engine.plan("singapore bnak")
    assert ("bnak", "bank") in plan.corrections
    boosts = {t.text: t.boost for t in engine._query(plan)[0].subqueries if t.fieldname == "body"}
    assert boosts["bank"] < boosts["singapor"]


@pytest.mark.parametrize("question", [
    "Do we have FedRAMP High authorization?", "where should we order lunch", "asdfgh qwerty",
    "AND OR NOT ( title:* [a TO", "ISO 27701 privacy certification", "🙂🙂", "",
])
def test_out_of_scope_questions_are_not_answered(engine, question):
    assert not engine.ask(question).answered


@pytest.mark.parametrize("question", [
    'AND (', "title:TISAX", '"PCI DSS', "cert*", "TISAX^5 OR NOT", "[a TO z]", "x" * 5000,
    "PCI " * 2000, "\x00\x07 TISAX \x1b[31m", "<script>alert(1)</script> HIPAA", "'; DROP TABLE certs; --",
    "../../etc/passwd", "🚗🚗 TISAX 🚗", "C5:2020 NOT", "*", "?", "\u202eTISAX",
])
def test_hostile_input_is_just_words(engine, question):
    answer = engine.ask(question)
    assert isinstance(answer, Answer)
    json.dumps(answer.to_dict())


def test_query_syntax_words_still_find_the_certification(engine):
    assert top(engine.ask("title:TISAX AND (level")).certification == "TISAX"
    assert top(engine.ask('"PCI DSS')).certification == "PCI DSS"


def test_slack_noise_is_removed():
    text = "<@U024BE7LH> <!here> see <https://x.example/rfp|the RFP> :pray: are we &lt;PCI&gt; ok?"
    assert clean_question(text) == "see are we <PCI> ok?"


def test_long_paste_is_cut_and_still_answered(engine):
    question = "TISAX level? " + "please " * 3000
    assert top(engine.ask(question)).certification == "TISAX"


def test_when_question_quotes_the_dated_sentence(engine):
    assert "August 31, 2020" in top(engine.ask("When did we pass BSI C5:2020?")).passage


def test_passages_are_short_verbatim_sentences(engine):
    result = top(engine.ask("TISAX assessment level"))
    assert "Level 3" in result.passage and len(result.passage) < 800


def test_named_question_stays_with_named_certification(engine):
    answer = engine.ask("Are we PCI DSS level 1?")
    assert {r.certification for r in answer.results} == {"PCI DSS"}


def test_results_carry_all_sources_of_merged_sections(engine):
    result = top(engine.ask("When did we pass BSI C5:2020?"))
    assert result.source == "001_f1959257ed4868ff.txt"
    assert set(result.sources) == {"001_f1959257ed4868ff.txt", "002_90ca8d4597dc99d6.txt"}


def test_catalog_lists_certifications_with_dates(engine):
    catalog = dict(engine.catalog())
    assert catalog["TISAX"] == "2024-06-24" and len(catalog) == 21


def test_sentences_are_not_cut_at_abbreviations():
    from index.passages import split_sentences
    text = ("Standards (i.e. NIST, CSA, and SANS) apply, e.g. ISO 27001. Cohasset Associates Inc. "
            "attested it. Next sentence here.")
    assert split_sentences(text) == [
        "Standards (i.e. NIST, CSA, and SANS) apply, e.g. ISO 27001.",
        "Cohasset Associates Inc. attested it.",
        "Next sentence here.",
    ]


def test_an_indirect_mention_is_answered(engine):
    # The FISC section offers SOC1/SOC2/SOC3 reports on request: a real answer, not "nothing".
    answer = engine.ask("SOC 2 Type II")
    assert answer.answered and answer.results[0].certification == "FISC"
    assert "SOC1/SOC2/ SOC3 report" in answer.results[0].passage
    assert answer.not_stated == ()


def test_common_terms_are_looked_up_in_candidates_not_retrieved(engine, monkeypatch):
    """On a large index a word in most sections ("cloud") leaves the retrieval query (walking
    its postings is what made the slow tail) and is looked up in the candidates instead: the
    answer, and the coverage it gives, stay the same."""
    from index import search

    question = "tencent cloud malaysia audit report"
    before = engine.ask(question)
    monkeypatch.setattr(search, "COMMON_POSTINGS", 10)   # as if the seeds were a huge corpus
    query, common = engine._query(engine.plan(question))
    retrieved = {t.text for t in query.subqueries}
    assert "cloud" not in retrieved and ("body", "cloud") in common and "malaysia" in retrieved
    after = engine.ask(question)
    assert after.results[0].title == before.results[0].title
    assert after.results[0].passage == before.results[0].passage
    hit = next(h for h in engine._searcher.search(query, limit=40))
    found = engine._matched(common, [hit])[hit.docnum]
    assert ("body", "cloud") in found


def test_matched_terms_read_from_stored_data_are_what_whoosh_records(engine):
    """Candidates' matched (field, term) pairs come from their stored data, so Whoosh can skip
    blocks; they must be exactly the pairs Whoosh itself would record."""
    for question in ("TRUCS certificate number for object storage", "malaysia audit report",
                     "which regions is ospar for", "C5 auditor", "可信云 证书编号"):
        query, _ = engine._query(engine.plan(question))
        pairs = [(t.fieldname, t.text) for t in query.subqueries]
        recorded = engine._searcher.search(query, limit=40, terms=True)
        ours = engine._matched(pairs, recorded)
        for hit in recorded:
            whoosh = {(f, t.decode() if isinstance(t, bytes) else t) for f, t in hit.matched_terms()}
            assert ours[hit.docnum] == whoosh, (question, hit["title"])


def test_numbers_asked_for_two_products_quote_both_lines(engine):
    answer = engine.ask("TRUCS certificate numbers for object storage and database?")
    passage = answer.results[0].passage
    assert "Cloud Object Storage Services No: 02016" in passage
    assert "Cloud Data Storage Services No: 03004" in passage
