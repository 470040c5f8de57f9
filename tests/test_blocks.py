"""bot/blocks.py: Answers built by hand in, Block Kit dicts out; no search, no Slack."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest

from bot.blocks import (
    EXAMPLE_QUESTIONS,
    SHARE_ACTION_ID,
    Message,
    escape,
    render_answer,
    render_certifications,
    render_help,
    render_home,
    render_numbers,
    render_text,
)
from index.answer import Answer, CertificateNumber, Result
from index.freshness import Freshness
from index.listing import CertificationEntry, NumberEntry

TRUCS_NUMBERS = (
    CertificateNumber("Cloud Object Storage Services", "02016"),
    CertificateNumber("Cloud Hosting", "01018"),
    CertificateNumber("Cloud Data Storage Services", "03004"),
    CertificateNumber("Private Cloud Segment", "H02010"),
    CertificateNumber("Certificate", "G01004"),
)


def result(certification: str = "Trusted Cloud Services (TRUCS)", *, passage: str = "Certified.",
           numbers: tuple[CertificateNumber, ...] = (), title: str = "TRUCS",
           last_updated: str | None = "2023-05-01", source: str = "trucs.pdf") -> Result:
    return Result(certification=certification, title=title, passage=passage,
                  certificate_numbers=numbers, last_updated=last_updated, source=source)


def answered(*results: Result, question: str = "TRUCS number for object storage") -> Answer:
    return Answer(question=question, answered=True, results=results)


# --- the generic structural check ---------------------------------------------------------

BLOCK_TYPES = {"section", "context", "divider", "actions", "header"}
OUR_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")
BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def text_objects(blocks: list[dict]) -> Iterator[dict]:
    for block in blocks:
        if "text" in block:
            yield block["text"]
        for element in block.get("elements", []):
            yield element["text"] if element.get("type") == "button" else element


def assert_safe_mrkdwn(text: str) -> None:
    """No `<...>` but our own `<@U1>`, no `>` but the quote marker, no half-cut entity."""
    text = OUR_MENTION.sub("", text)
    assert "<" not in text, text
    assert ">" not in re.sub(r"(?m)^>", "", text), text
    assert not BROKEN_ENTITY.search(text), text


def assert_valid(blocks: list[dict], max_blocks: int = 50) -> None:
    """Block Kit limits Slack enforces by rejecting the whole message."""
    assert 0 < len(blocks) <= max_blocks
    for block in blocks:
        assert block["type"] in BLOCK_TYPES, block
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
        elif block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= 150
        elif block["type"] == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["type"] == "button"
                assert len(button["text"]["text"]) <= 75
                assert len(button["value"]) <= 2000
    for obj in text_objects(blocks):
        assert obj["type"] in {"mrkdwn", "plain_text"}, obj
        assert isinstance(obj["text"], str) and len(obj["text"]) <= 3000
        if obj["type"] == "mrkdwn":
            assert obj["verbatim"] is True, obj
            assert_safe_mrkdwn(obj["text"])
        else:
            assert "verbatim" not in obj


def assert_valid_message(message: Message) -> None:
    assert isinstance(message, Message)
    assert 0 < len(message.text) <= 3000
    assert_safe_mrkdwn(message.text)
    assert_valid(message.blocks)


def all_text(blocks: list[dict]) -> str:
    return "\n".join(obj["text"] for obj in text_objects(blocks))


def sections(message: Message) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


def actions(message: Message) -> list[dict]:
    return [b for b in message.blocks if b["type"] == "actions"]


# --- escape -------------------------------------------------------------------------------


def test_escape_neutralises_mentions_and_keeps_entities_literal():
    assert escape("<!channel> <!here> <!everyone> <@U123> <!subteam^S1>") == (
        "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt; &lt;!subteam^S1&gt;")
    assert escape("R&D &lt;") == "R&amp;D &amp;lt;"


# --- answered -----------------------------------------------------------------------------


def test_header_has_certification_and_numbers_bold_first_number_first():
    message = render_answer(answered(result(numbers=TRUCS_NUMBERS)))
    assert_valid_message(message)
    header = sections(message)[0]
    first_line, also = header.split("\n")
    assert first_line == ("*Trusted Cloud Services (TRUCS)* — "
                          "Cloud Object Storage Services No: *02016*")
    assert also.startswith("Also: Cloud Hosting No: 01018 · ")
    for n in TRUCS_NUMBERS[1:]:
        assert f"{n.label} No: {n.number}" in also
    assert message.text.startswith(
        "Trusted Cloud Services (TRUCS): Cloud Object Storage Services No: 02016 — ")


def test_question_is_restated_first_and_escaped():
    question = "TRUCS number? <!channel> <@U999>\n>fake quote"
    message = render_answer(answered(result(), question=question))
    assert_valid_message(message)
    first = message.blocks[0]
    assert first["type"] == "context"
    assert first["elements"][0]["text"] == (
        "*Q:* TRUCS number? &lt;!channel&gt; &lt;@U999&gt; &gt;fake quote")


def test_shared_by_is_the_only_mention():
    message = render_answer(answered(result()), shared_by="U123")
    assert_valid_message(message)
    assert "Shared by <@U123>" in all_text(message.blocks[:1])
    assert "<@U123>" not in message.text
    with pytest.raises(ValueError):
        render_answer(answered(result()), shared_by="<!channel>")


def test_passage_is_quoted_and_escaped_on_every_line():
    passage = "Line one <!channel>\n\n> not a quote & <!subteam^S1>\nLine three"
    message = render_answer(answered(result(passage=passage)))
    assert_valid_message(message)
    quoted = sections(message)[1]
    assert quoted == (">Line one &lt;!channel&gt;\n"
                      ">&gt; not a quote &amp; &lt;!subteam^S1&gt;\n"
                      ">Line three")
    assert "<!channel>" not in message.text and "&lt;!channel&gt;" in message.text


def test_document_titles_and_labels_are_escaped():
    r = result(certification="C5 <!here>", title="<@U1> section", source="a<b>.pdf",
               numbers=(CertificateNumber("<!everyone> label", "X-1"),))
    message = render_answer(answered(r))
    assert_valid_message(message)
    text = all_text(message.blocks)
    assert "&lt;!here&gt;" in text and "&lt;!everyone&gt; label No: *X-1*" in text
    assert "&lt;@U1&gt; section · a&lt;b&gt;.pdf" in text


def test_context_shows_title_source_and_date():
    message = render_answer(answered(result(title="Scope", source="trucs.pdf")))
    assert "Scope · trucs.pdf · last updated 2023-05-01" in all_text(message.blocks)


def test_missing_last_updated_is_said_not_hidden():
    message = render_answer(answered(result(last_updated=None)))
    assert_valid_message(message)
    assert "last updated: not stated" in all_text(message.blocks)


def test_at_most_three_results_in_order_with_dividers():
    results = [result(f"Cert {i}") for i in range(4)]
    message = render_answer(answered(*results))
    assert_valid_message(message)
    headers = [s for s in sections(message) if s.startswith("*Cert")]
    assert headers == ["*Cert 0*", "*Cert 1*", "*Cert 2*"]
    assert [b["type"] for b in message.blocks].count("divider") == 2


def test_long_passage_is_cut_but_every_number_survives():
    numbers = tuple(CertificateNumber(f"Service {i} with a long product label", f"N{i:05d}")
                    for i in range(150))
    passage = ("Encryption & <keys> are managed. " * 400)  # 13,200 chars, expands when escaped
    message = render_answer(answered(result(passage=passage, numbers=numbers)))
    assert_valid_message(message)
    text = all_text(message.blocks)
    for n in numbers:
        assert f"No: {n.number}" in text or f"No: *{n.number}*" in text
    quoted = [s for s in sections(message) if s.startswith(">")]
    assert len(quoted) == 1 and quoted[0].endswith("…")


def test_share_button_carries_question_within_slack_limit():
    question = "Is object storage covered by TRUCS? " + "x" * 5000
    message = render_answer(answered(result(), question=question), share_button=True)
    assert_valid_message(message)
    [block] = actions(message)
    [button] = block["elements"]
    assert button["action_id"] == SHARE_ACTION_ID
    assert len(button["value"]) <= 2000
    assert question.startswith(json.loads(button["value"])["q"])
    short = render_answer(answered(result(), question='say "hi" & <!here>'), share_button=True)
    assert json.loads(actions(short)[0]["elements"][0]["value"]) == {"q": 'say "hi" & <!here>'}


def test_no_share_button_unless_asked():
    assert actions(render_answer(answered(result()))) == []


def test_notice_comes_after_results():
    notice = "Answered from public documents only — ask me in a DM for more."
    message = render_answer(answered(result(), result("Other")), notice=notice,
                            share_button=True)
    assert_valid_message(message)
    contexts = [i for i, b in enumerate(message.blocks) if b["type"] == "context"
                and b["elements"][0]["text"] == notice]
    assert contexts and contexts[0] > max(i for i, b in enumerate(message.blocks)
                                          if b["type"] == "section")


# --- not answered ------------------------------------------------------------------------


def test_not_found_restates_question_and_corrections_without_share_button():
    answer = Answer(question="ospra report for <!channel>", answered=False,
                    corrections=(("ospra", "ospar"),))
    message = render_answer(answer, share_button=True)
    assert_valid_message(message)
    assert actions(message) == []
    text = all_text(message.blocks)
    assert "Nothing in the certification documents answers" in text
    assert "“ospra report for &lt;!channel&gt;”" in text
    assert "searched for *ospar*" in text
    assert "certification name, an acronym or a product" in text
    assert "Nothing in the certification documents answers" in message.text
    for verdict in ("not certified", "we don't have", "we do not have", "No, "):
        assert verdict not in text


def test_answered_without_results_is_treated_as_not_found():
    message = render_answer(Answer(question="anything?", answered=True, results=()))
    assert_valid_message(message)
    assert "Nothing in the certification documents answers" in message.text


def test_huge_question_still_fits():
    message = render_answer(Answer(question="why " * 5000, answered=False))
    assert_valid_message(message)


# --- help, home, text -----------------------------------------------------------------------


def test_help_lists_usage_and_exactly_three_examples():
    message = render_help("/cert")
    assert_valid_message(message)
    text = all_text(message.blocks)
    assert len(EXAMPLE_QUESTIONS) == 3
    for q in EXAMPLE_QUESTIONS:
        assert f"`/cert {q}`" in text
    assert "`/cert QUESTION`" in text and "direct message" in text and "@-mention" in text
    assert "/certdesk" in all_text(render_help("/certdesk").blocks)


def test_home_is_sorted_with_dates():
    view = render_home([("TISAX", "2024-02-01"), ("bsi C5", None), ("OSPAR", "2023-11-30")])
    assert view["type"] == "home"
    assert_valid(view["blocks"], max_blocks=100)
    text = all_text(view["blocks"])
    assert text.index("*bsi C5*") < text.index("*OSPAR*") < text.index("*TISAX*")
    assert "*bsi C5* — date not stated" in text
    assert "*TISAX* — last updated 2024-02-01" in text
    assert "/cert QUESTION" in text


def test_home_with_300_certifications_stays_under_block_limit():
    catalog = [(f"Certification number {i:03d} <!here>", "2024-01-01") for i in range(300)]
    view = render_home(catalog)
    assert_valid(view["blocks"], max_blocks=100)
    text = all_text(view["blocks"])
    assert all(f"Certification number {i:03d} &lt;!here&gt;" in text for i in range(300))


def test_home_with_absurd_catalogue_says_how_many_are_left_out():
    catalog = [("C" * 190 + f"{i:05d}", None) for i in range(3000)]
    view = render_home(catalog)
    assert_valid(view["blocks"], max_blocks=100)
    assert re.search(r"…and \d+ more", all_text(view["blocks"][-1:]))


def test_home_empty_catalogue():
    view = render_home([])
    assert_valid(view["blocks"], max_blocks=100)


def test_render_text_is_escaped_and_bounded():
    message = render_text("Slow down <!channel> " * 500)
    assert_valid_message(message)
    assert len(message.blocks) == 1 and message.text.endswith("…")


# --- freshness warnings and the catalogue -------------------------------------------------------

FRESHNESS = Freshness(today=dt.date(2026, 11, 25), stale_days=730)
OLD_WARNING = ":warning: *last updated 2018-06-22 — confirm with compliance before quoting*"


def test_a_stale_result_has_the_warning_right_under_its_header():
    message = render_answer(answered(result(numbers=TRUCS_NUMBERS[:1], last_updated="2018-06-22")),
                            freshness=FRESHNESS)
    assert_valid_message(message)
    texts = sections(message)
    assert texts[0].startswith("*Trusted Cloud Services (TRUCS)*")
    assert texts[1] == OLD_WARNING
    assert texts[2].startswith(">")                     # then the quote
    assert message.text.startswith("⚠️ last updated 2018-06-22 — confirm with compliance before quoting")


def test_an_expired_result_says_so_and_a_fresh_one_says_nothing():
    expired = Result(certification="ISO 27001", title="Certificate", passage="Certified.",
                     last_updated="2026-10-01", valid_until="2024-03-01", source="iso.pdf")
    fresh = result(last_updated="2026-10-01")
    message = render_answer(answered(expired, fresh), freshness=FRESHNESS)
    assert_valid_message(message)
    text = all_text(message.blocks)
    assert text.count(":warning:") == 1
    assert ":warning: *valid until 2024-03-01 — expired; confirm with compliance before quoting*" in text
    assert ":warning:" not in all_text(render_answer(answered(fresh), freshness=FRESHNESS).blocks)


def test_without_freshness_no_warning_is_rendered():
    assert ":warning:" not in all_text(render_answer(answered(result(last_updated="2018-06-22"))).blocks)


def test_the_help_names_the_catalogue_commands():
    text = all_text(render_help("/cert").blocks)
    assert "`/cert list`" in text and "`/cert numbers`" in text


def entry(name: str, last_updated: str | None = "2026-10-01", **fields) -> CertificationEntry:
    values = {"scope": None, "valid_until": None, "review_by": None, "sources": ("a.md",), "sections": 1}
    values.update(fields)
    return CertificationEntry(name=name, last_updated=last_updated, **values)


def test_list_lines_say_scope_dates_and_warnings_once():
    message = render_certifications([
        entry("PCI DSS", "2018-06-22", scope="PCI DSS Certification"),
        entry("TISAX", "2026-06-24", valid_until="2028-01-31"),
        entry("ISO 27001", "2026-06-24", valid_until="2024-03-01"),
        entry("Undated <!here>", None),
    ], FRESHNESS)
    assert_valid_message(message)
    text = all_text(message.blocks)
    assert f"• *PCI DSS* — PCI DSS Certification · {OLD_WARNING}" in text
    assert text.count("2018-06-22") == 1                 # the warning states the date once
    assert "• *TISAX* — last updated 2026-06-24 · valid until 2028-01-31\n" in text
    assert ("• *ISO 27001* — last updated 2026-06-24 · :warning: *valid until 2024-03-01 — expired; "
            "confirm with compliance before quoting*") in text
    assert "• *Undated &lt;!here&gt;* — last updated: not stated" in text
    assert message.blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Certifications (4)"}}


def test_a_huge_catalogue_fits_slack_and_says_how_many_are_left_out():
    entries = [entry(f"Certification {'x' * 150} {i:05d}", "2018-01-01", scope="s" * 150) for i in range(2000)]
    message = render_certifications(entries, FRESHNESS, notice="Answered from public documents only.")
    assert_valid_message(message)
    shown = all_text(message.blocks).count("• *Certification")
    assert 0 < shown < 2000
    assert f"…and {2000 - shown} more certifications not shown here" in all_text(message.blocks)
    assert message.blocks[-1]["elements"][0]["text"] == "Answered from public documents only."


def test_numbers_are_grouped_bold_escaped_and_fit_slack():
    numbers = [NumberEntry("TRUCS", "Cloud Hosting", "01018", "a.txt"),
               NumberEntry("TRUCS", "Cloud <b>Cache</b>", "06001", "a.txt"),
               NumberEntry("ISO 27001", "Certificate", "IS 552878", "iso.pdf")]
    message = render_numbers(numbers)
    assert_valid_message(message)
    text = all_text(message.blocks)
    assert "*TRUCS*\n• Cloud Hosting No: *01018*\n• Cloud &lt;b&gt;Cache&lt;/b&gt; No: *06001*\n*ISO 27001*" in text
    assert "• Certificate No: *IS 552878*" in text
    many = [NumberEntry(f"Cert {i // 40}", f"Label {'y' * 100} {i}", f"N-{i:05d}", "a.txt") for i in range(6000)]
    message = render_numbers(many)
    assert_valid_message(message)
    shown = all_text(message.blocks).count(" No: *N-")
    assert f"…and {6000 - shown} more numbers not shown here" in all_text(message.blocks)


def test_empty_catalogues_say_so():
    for message in (render_certifications([], FRESHNESS), render_numbers([])):
        assert_valid_message(message)
        assert "No " in message.text
