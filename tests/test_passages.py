"""Which sentences of a section are quoted: lists quoted with what announces them."""

from __future__ import annotations

from index.analysis import stem
from index.passages import choose_passage, sentences_of


def _weights(*words: str) -> dict[str, float]:
    return {stem(w): 1.0 for w in words}


def test_a_list_announced_by_the_following_is_quoted_with_its_paragraph():
    # The paragraph does not end in ":", but "the following" announces the list after it.
    blocks = [
        ("The following documents cover Contoso Vault. To view them, sign in to the portal.", "text"),
        ("Kestrel Data Seal certificate", "text"),
        ("Heron Privacy Mark certificate", "text"),
        ("Contact", "heading"),
        ("Write to compliance with any other question.", "text"),
    ]
    passage = choose_passage(sentences_of(blocks), _weights("vault", "heron"))
    assert passage.startswith("The following documents cover Contoso Vault.")
    assert "Kestrel Data Seal certificate · Heron Privacy Mark certificate" in passage
    assert "Write to compliance" not in passage


def test_a_paragraph_without_an_announcement_keeps_its_sentences_apart_from_what_follows():
    blocks = [
        ("Contoso Vault is covered. To view reports, sign in to the portal.", "text"),
        ("Kestrel Data Seal certificate", "text"),
        ("Heron Privacy Mark certificate", "text"),
    ]
    passage = choose_passage(sentences_of(blocks), _weights("heron"))
    assert passage == "Heron Privacy Mark certificate"


def test_below_in_another_sense_announces_no_list():
    blocks = [
        ("Data of the highest sensitivity below classified needs the fifth level.", "text"),
        ("Contoso Relay was granted the fifth level.", "text"),
    ]
    first = sentences_of(blocks)[0]
    assert first.items == 0 and "relay" not in first.terms


def test_any_sentence_of_a_paragraph_announcing_a_list_is_quoted_with_the_list():
    blocks = [
        ("The following documents cover Contoso Vault. To view them, sign in to the portal.", "text"),
        ("Kestrel Data Seal certificate", "text"),
        ("Heron Privacy Mark certificate", "text"),
    ]
    # Asked what Vault holds: the first sentence answers, and brings its paragraph's list.
    passage = choose_passage(sentences_of(blocks, _marks), _weights("vault"), asks=["holds"])
    assert passage == ("The following documents cover Contoso Vault. To view them, sign in to the portal. "
                       "Kestrel Data Seal certificate · Heron Privacy Mark certificate")


def _marks(text: str) -> frozenset[str]:
    return frozenset({"holds"}) if "cover" in text else frozenset()
