"""Slack messages for certdesk, as plain Block Kit dicts built from an `index.answer.Answer`.

The bot speaks in channels shared with customers, so rendering is deliberately defensive:

* Everything that came from a user (the question) or a document (passages, titles, labels)
  goes through `escape`, so `<!channel>` or `<@U123>` typed into a question or found in a
  PDF pings nobody. Every mrkdwn object is `verbatim`, so Slack does not link-ify channel
  names, user names or URLs on its own either. The only unescaped `<...>` we ever emit are the
  `<@U123>` of `shared_by` and, in a hand-off to compliance, the asker, the channel, the
  permalink and the `<!subteam^S123>` of the configured group: each validated by its shape.
* Slack rejects a whole message that breaks a Block Kit limit, so long texts are shortened
  with "…" instead, always before escaping (an entity like `&amp;` is never cut in half).
  Certificate numbers live in their own header section and are never shortened or dropped.

Pure functions, plain dicts out: no Slack SDK, no search, easy to test with hand-built Answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from index.answer import Answer, CertificateNumber, Result
from index.followup import FollowUp
from index.freshness import EXPIRED, OLD, Freshness, warning_for
from index.listing import CertificationEntry, NumberEntry

# Block Kit limits (https://api.slack.com/reference/block-kit).
MAX_TEXT = 3000          # section text, context element text, our `text` fallback
MAX_BLOCKS = 50          # blocks in a message
MAX_VIEW_BLOCKS = 100    # blocks in a Home tab view
MAX_BUTTON_VALUE = 2000  # a button's `value`
MAX_HEADER = 150         # header block plain_text

MAX_RESULTS = 3
SHARE_ACTION_ID = "certdesk_share"
HANDOFF_ACTION_ID = "certdesk_handoff"
FEEDBACK_UP_ACTION_ID = "certdesk_feedback_up"
FEEDBACK_DOWN_ACTION_ID = "certdesk_feedback_down"
FALLBACK_PASSAGE_CHARS = 150
MAX_NAME = 200           # a certification name, title or label from a document

EXAMPLE_QUESTIONS = (
    "TRUCS certificate number for object storage",
    "Are we PCI DSS level 1?",
    "Anything for a Singapore bank?",
)
NOT_FOUND = "Nothing in the certification documents answers this question."

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CONVERSATION_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")
_PERMALINK = re.compile(r"https://[^\s<>|]+")


@dataclass(frozen=True)
class Message:
    """A message to post: `text` is the notification fallback, `blocks` what Slack shows."""

    text: str
    blocks: list[dict]


# --- text helpers -----------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's escaping: `<!channel>`, `<@U1>`, `<!subteam^S1>` then render literally.

    `&` goes first so that a document saying "&lt;" still shows "&lt;", not "<".
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(text: str) -> str:
    """Collapse whitespace, so a restated question cannot fake a multi-line bot answer."""
    return " ".join(text.split())


def _quote(text: str) -> str:
    """Prefix every line with Slack's quote marker; blank lines are dropped (a lone ">"
    is not reliably rendered as a quote line), the words themselves are untouched."""
    return "\n".join(f">{line}" for line in text.splitlines() if line.strip())


def _fit(raw: str, limit: int, render: Callable[[str], str], ellipsis: str = "…") -> str:
    """`render(raw)` if that fits in `limit`, else render the longest prefix + ellipsis that does.

    Cuts the raw text (never the rendered one, so escapes stay whole), preferring a word
    boundary near the cut. Rendered length grows with the prefix, so a binary search works.
    """
    rendered = render(raw)
    if len(rendered) <= limit:
        return rendered

    def cut(n: int) -> str:
        return raw[:n].rstrip() + ellipsis

    lo, hi = 0, len(raw)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(render(cut(mid))) <= limit:
            lo = mid
        else:
            hi = mid - 1
    space = raw.rfind(" ", 0, lo)
    if ellipsis and space > 0 and lo - space <= 40:
        lo = space
    return render(cut(lo))


def _short(text: str, limit: int = MAX_NAME) -> str:
    """A name, title or label from a document: one line, escaped, kept to a sane length."""
    return _fit(_one_line(text), limit, escape)


# --- block helpers ------------------------------------------------------------------------


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(*texts: str) -> dict:
    return {"type": "context", "elements": [_mrkdwn(t) for t in texts]}


def _divider() -> dict:
    return {"type": "divider"}


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:MAX_HEADER]}}


def _pack(lines: Iterable[str], limit: int = MAX_TEXT, sep: str = "\n") -> list[str]:
    """Group whole lines into texts of at most `limit` characters (no line is ever split)."""
    texts: list[str] = []
    for line in lines:
        if texts and len(texts[-1]) + len(sep) + len(line) <= limit:
            texts[-1] += sep + line
        else:
            texts.append(line)
    return texts


# --- answers ------------------------------------------------------------------------------


def _number(n: CertificateNumber, bold: bool) -> str:
    number = escape(n.number)
    label = _short(n.label)
    value = f"*{number}*" if bold else number
    return f"{label} No: {value}" if label else f"No: {value}"


def _header_sections(result: Result) -> list[dict]:
    """Certification in bold, first number in bold, further numbers compactly after.

    Usually one section; with very many numbers, several, split only between numbers.
    """
    line = f"*{_short(result.certification)}*"
    numbers = result.certificate_numbers
    if numbers:
        line += f" — {_number(numbers[0], bold=True)}"
    texts = [line]
    for i, n in enumerate(numbers[1:]):
        item = _number(n, bold=False)
        sep = "\nAlso: " if i == 0 else " · "
        if len(texts[-1]) + len(sep) + len(item) <= MAX_TEXT:
            texts[-1] += sep + item
        else:
            texts.append("Also: " + item)
    return [_section(t) for t in texts]


def _warning_text(warning: str) -> str:
    """index/freshness.py's warning as our one unmissable line."""
    return _fit(warning, MAX_TEXT, lambda w: f":warning: *{escape(w)}*")


def _result_blocks(result: Result, warning: str | None = None) -> list[dict]:
    passage = (_fit(result.passage, MAX_TEXT, lambda s: _quote(escape(s)))
               or "_(the document gives no text for this section)_")
    updated = (f"last updated {_short(result.last_updated, 40)}" if result.last_updated
               else "last updated: not stated")
    meta = [_short(result.title), _short(result.source), updated]
    # Right under the header, above the quote: read before anything is read out.
    stale = [_section(_warning_text(warning))] if warning else []
    return [*_header_sections(result), *stale, _section(passage),
            _context(" · ".join(m for m in meta if m))]


def _question_block(question: str, shared_by: str | None) -> dict:
    """Restate the question: nobody else sees a slash command's text."""
    q = _fit(_one_line(question), MAX_TEXT, lambda s: "*Q:* " + escape(s))
    if shared_by is None:
        return _context(q)
    if not _USER_ID.fullmatch(shared_by):
        # Our one unescaped mention: refuse anything that is not a plain user id.
        raise ValueError(f"shared_by must be a Slack user id, got {shared_by!r}")
    return _context(q, f"Shared by <@{shared_by}>")


def _follow_up_block(follow_up: FollowUp) -> dict:
    """What a follow-up was understood as, so the asker can see the thread's context was used
    (and ask afresh, outside the thread, if it should not have been)."""
    earlier = _fit(_one_line(follow_up.earlier.question), 1000, lambda s: f"“{escape(s)}”")
    searched = _fit(_one_line(follow_up.searched), 1500, lambda s: f"“{escape(s)}”")
    return _context(f"Follow-up to {earlier} — searched: {searched}")


def _share_value(question: str) -> str:
    """JSON `{"q": question}`, the question cut so the value fits Slack's 2000 chars."""
    return _fit(question, MAX_BUTTON_VALUE,
                lambda s: json.dumps({"q": s}, ensure_ascii=False), ellipsis="")


def _share_button(question: str) -> dict:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": "Share in channel"},
        "action_id": SHARE_ACTION_ID,
        "value": _share_value(question),
    }


def _feedback_buttons(ref: int) -> list[dict]:
    """Helpful / not helpful; the value is the question log's row id (a number, no text)."""
    return [{"type": "button", "text": {"type": "plain_text", "text": label, "emoji": True},
             "action_id": action_id, "value": str(ref)}
            for label, action_id in (("👍 Helpful", FEEDBACK_UP_ACTION_ID),
                                     ("👎 Not helpful", FEEDBACK_DOWN_ACTION_ID))]


def _handoff_value(question: str, top: str | None, about_ts: str | None) -> str:
    """JSON `{"q": question, "top": certification or null, "m": ts or null}`, the question cut
    so the value fits Slack's 2000 chars: what the hand-off posts, without asking again."""
    return _fit(question, MAX_BUTTON_VALUE,
                lambda s: json.dumps({"q": s, "top": top and top[:MAX_NAME], "m": about_ts},
                                     ensure_ascii=False), ellipsis="")


def _handoff_button(answer: Answer, about_ts: str | None) -> dict:
    top = answer.results[0].certification if answer.answered and answer.results else None
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": "Ask compliance"},
        "action_id": HANDOFF_ACTION_ID,
        "value": _handoff_value(answer.question, top, about_ts),
    }


def _answered_fallback(result: Result) -> str:
    first = result.certificate_numbers[0] if result.certificate_numbers else None
    head = result.certification[:MAX_NAME]
    if first:
        head += f": {first.label} No: {first.number}"
    passage = _one_line(result.passage)
    if len(passage) > FALLBACK_PASSAGE_CHARS:
        passage = passage[:FALLBACK_PASSAGE_CHARS].rstrip() + "…"
    return _fit(_one_line(f"{head} — {passage}"), MAX_TEXT, escape)


def _not_found_blocks(answer: Answer) -> tuple[str, list[dict]]:
    """Say plainly that the documents do not answer it, without implying yes or no."""
    searched = _fit(_one_line(answer.question), 1500, lambda s: f"“{escape(s)}”")
    corrected = ", ".join(f"*{_short(new, 100)}* where you typed “{_short(old, 100)}”"
                          for old, new in answer.corrections)
    lines = [
        f"{NOT_FOUND} That is not a yes or a no: the documents I search just don't cover it.",
        f"I searched the documents for {searched}"
        + (f" (searched for {corrected})" if corrected else "") + ".",
        "Try rephrasing with a certification name, an acronym or a product, e.g. "
        f"“{EXAMPLE_QUESTIONS[0]}” or “Is there an OSPAR report for banks?”",
    ]
    text = _pack(lines)  # one section unless corrections are absurdly long
    fallback = _fit(_one_line(f"{NOT_FOUND} Searched for: {answer.question}"), MAX_TEXT, escape)
    return fallback, [_section(t) for t in text]


def render_answer(answer: Answer, *, shared_by: str | None = None, share_button: bool = False,
                  notice: str | None = None, feedback_ref: int | None = None,
                  handoff: bool = False, about_ts: str | None = None,
                  follow_up: FollowUp | None = None, freshness: Freshness | None = None) -> Message:
    """The question restated, then up to three quoted results (or a not-found message).

    `follow_up`: the answer is to a follow-up in a thread; the question is restated as typed,
    with the earlier question it follows and the standalone question searched for it.

    `shared_by` is a Slack user id; `notice` is our own one-line caveat; `share_button` is
    only honoured for answered questions (sharing "nothing found" is noise in a channel).
    `feedback_ref` (the question log's row id) adds helpful / not helpful buttons, also only
    to answered questions: an unanswered one is already on the compliance team's list.
    `handoff` adds "Ask compliance" to answered and unanswered questions alike (an unanswered
    one is when it helps most); `about_ts` is the message the question was read from (the
    message shortcut), which the hand-off links to.
    `freshness` (today and CERTDESK_STALE_DAYS, from the caller) puts a :warning: line under
    each result whose source is old or expired; every surface passes it (None: no check,
    for the benchmark).
    """
    blocks = [_question_block(follow_up.asked if follow_up else answer.question, shared_by)]
    if follow_up:
        blocks.append(_follow_up_block(follow_up))
    tail: list[dict] = []
    if notice:
        tail.append(_context(_fit(notice, MAX_TEXT, escape)))
    results = answer.results[:MAX_RESULTS] if answer.answered else ()
    if results:
        buttons = [_share_button(answer.question)] if share_button else []
        if handoff:
            buttons.append(_handoff_button(answer, about_ts))
        if feedback_ref is not None:
            buttons += _feedback_buttons(feedback_ref)
        if buttons:
            tail.append({"type": "actions", "elements": buttons})
        missing = answer.not_stated_sentence()
        warnings = [freshness.warning(r) if freshness else None for r in results]
        for i, result in enumerate(results):
            rendered = ([_divider()] if i else []) + _result_blocks(result, warnings[i])
            if i == 0 and missing:
                # Right under the quote it qualifies, so nobody reads the quote as a "yes".
                rendered.insert(len(rendered) - 1, _section(_fit(missing, MAX_TEXT, lambda t: f"*{escape(t)}*")))
            if i and len(blocks) + len(rendered) + len(tail) > MAX_BLOCKS:
                break  # drop a whole lower-ranked result rather than a number of this one
            blocks += rendered
        text = _answered_fallback(results[0])
        if missing:
            # Document text (a certification's name) reaches the notification: escape it too.
            room = MAX_TEXT - len(text) - 1
            text = f"{_fit(_one_line(missing), room, escape)} {text}" if room > 20 else text
        if warnings[0]:
            # The notification says it too: some read only that before quoting.
            room = MAX_TEXT - len(text) - 4
            text = f"⚠️ {_fit(warnings[0], room, escape)}: {text}" if room > 20 else text
    else:
        text, not_found = _not_found_blocks(answer)
        blocks += not_found
        if handoff:
            tail.append({"type": "actions", "elements": [_handoff_button(answer, about_ts)]})
    return Message(text=text, blocks=blocks + tail)


# --- hand-off to compliance ----------------------------------------------------------------


def _channel_ref(channel: str | None) -> str | None:
    """`<#C…>` (Slack shows the channel's name, linked) for a plain conversation id, else None:
    the only unescaped channel reference we emit."""
    return f"<#{channel}>" if channel and _CONVERSATION_ID.fullmatch(channel) else None


def _where_asked(channel: str | None, permalink: str | None, private: bool) -> str:
    """Where the question was asked, as the compliance team can follow it: a link to the
    message when there is one (not for a DM, which nobody else can open), else the channel."""
    if channel and channel.startswith("D"):
        return "in a direct message"
    ref = _channel_ref(channel) or "a conversation I could not name"
    if permalink and _PERMALINK.fullmatch(permalink):
        return f"in {ref} (<{permalink}|view the message>)"
    return f"privately in {ref} (a private answer: no message to link)" if private else f"in {ref}"


def render_escalation(*, question: str, asker: str | None, top: str | None, channel: str | None,
                      permalink: str | None, private: bool = False, group: str | None = None) -> Message:
    """The hand-off post in the compliance channel: the question quoted, who asks, where,
    and certdesk's best match (a certification's name, never a passage: nothing quoted from
    an internal document is copied anywhere by a hand-off).

    Every id is checked for shape and left out if it is not one (a malformed payload still
    hands the question over); the group is tagged as `<!subteam^S…>` so it is notified.
    """
    tag = f"<!subteam^{group}> " if group and _GROUP_ID.fullmatch(group) else ""
    who = f"<@{asker}>" if asker and _USER_ID.fullmatch(asker) else "someone"
    best = f"certdesk's top answer: *{_short(top)}*" if top else "certdesk: no answer"
    asked = _one_line(question)
    quoted = _fit(asked, MAX_TEXT, lambda s: f"{tag}*Question for compliance*\n>{escape(s)}")
    text = _fit(asked, MAX_TEXT, lambda s: f"{tag}Question for compliance from {who}: {escape(s)}")
    return Message(text=text, blocks=[_section(quoted),
                                      _context(f"From {who} {_where_asked(channel, permalink, private)}", best)])


def render_channel_notice(text: str, channel: str, question: str | None = None) -> Message:
    """Our own `text` with "{channel}" shown as a link to `channel` (a setting, shape-checked),
    and the asker's question quoted after it so it can be copied when it could not be sent."""
    body = escape(text).replace("{channel}", _channel_ref(channel) or escape(channel))
    if question:
        body = _fit(_one_line(question), MAX_TEXT, lambda s: f"{body}\n>{escape(s)}")
    return Message(text=body, blocks=[_section(body)])


# --- help, home, notices -----------------------------------------------------------------


def _usage_lines(command: str) -> list[str]:
    cmd = escape(command)
    return [
        f"• `{cmd} QUESTION` in any conversation",
        "• a direct message to me",
        "• an @-mention in a channel (I answer in a thread; mention me again in that thread to follow up)",
        "• *Ask certdesk* in any message's ⋯ menu (I answer you alone)",
    ]


def _catalogue_lines(command: str) -> list[str]:
    cmd = escape(command)
    return [
        f"• `{cmd} list`: every certification, its scope and when its documents were last updated",
        f"• `{cmd} numbers`: every certificate number, with what it certifies",
    ]


def render_help(command: str = "/cert") -> Message:
    """How to ask, with three questions phrased the way sales staff actually ask them."""
    cmd = escape(command)
    examples = "\n".join(f"• `{cmd} {escape(q)}`" for q in EXAMPLE_QUESTIONS)
    blocks = [
        _section("I answer questions about our compliance certifications with passages quoted "
                 "word for word from the certification documents, and certificate numbers."),
        _section("*Ask me with*\n" + "\n".join(_usage_lines(command))),
        _section("*For example*\n" + examples),
        _section("*The catalogue*\n" + "\n".join(_catalogue_lines(command))),
        _context("If nothing in the documents answers a question, I say so instead of guessing. "
                 "A :warning: under an answer means its source is old or its certificate has "
                 "expired: confirm with compliance before quoting it."),
    ]
    return Message(text=f"Ask me about our certifications: {cmd} QUESTION", blocks=blocks)


def render_home(catalog: list[tuple[str, str | None]], *, command: str = "/cert") -> dict:
    """The App Home view: how to ask, and every certification known, sorted by name.

    Several certifications share a section so 300 of them stay far below the 100-block
    limit; if even that is not enough, the list ends with "…and N more".
    """
    lines = [f"• *{_short(name)}* — "
             + (f"last updated {_short(date, 40)}" if date else "date not stated")
             for name, date in sorted(catalog, key=lambda c: (c[0].casefold(), c[0]))]
    blocks = [
        _header("certdesk"),
        _section("I answer questions about our compliance certifications with passages quoted "
                 "word for word and certificate numbers. Ask me with\n"
                 + "\n".join(_usage_lines(command) + _catalogue_lines(command))),
        _divider(),
        _section(f"*Certifications I know* ({len(lines)})" if lines
                 else "*Certifications I know*\nNone yet: the document index is empty."),
    ]
    # One line per certification (names are one-lined by _short).
    blocks += _listed(lines, MAX_VIEW_BLOCKS - len(blocks), lambda left: f"…and {left} more")
    return {"type": "home", "blocks": blocks}


def _listed(lines: list[str], room: int, more: Callable[[int], str],
            counts: Callable[[str], bool] = lambda line: True) -> list[dict]:
    """`lines` packed into sections (no line split), in at most `room` blocks; when they do
    not fit, the last block says how many were left out (`more(n)`). `counts` says which
    lines are items (not group headings) for that count."""
    chunks = _pack(lines)
    if len(chunks) > room:
        left = sum(counts(line) for c in chunks[room - 1:] for line in c.split("\n"))
        chunks = chunks[:room - 1] + [more(left)]
    return [_section(c) for c in chunks]


# --- the catalogue: /cert list and /cert numbers --------------------------------------------


def _catalogue_message(title: str, lines: list[str], *, empty: str, footer: str,
                       notice: str | None, more: Callable[[int], str],
                       counts: Callable[[str], bool] = lambda line: True) -> Message:
    """A header, the packed lines (or `empty`), a footer, and the audience notice last."""
    tail = [_context(footer)] + ([_context(_fit(notice, MAX_TEXT, escape))] if notice else [])
    head = [_header(title)]
    body = (_listed(lines, MAX_BLOCKS - len(head) - len(tail), more, counts) if lines
            else [_section(escape(empty))])
    return Message(text=title if lines else empty, blocks=head + body + tail)


def _certification_line(entry: CertificationEntry, freshness: Freshness) -> str:
    """"• *PCI DSS* — PCI DSS Certification · :warning: *last updated 2018-06-22 — confirm…*":
    the warning replaces the date it is about rather than repeating it."""
    found = freshness.concerns(entry)
    warned = {c.kind for c in found if c.warns_reader}
    parts = [_short(entry.scope)] if entry.scope else []
    if OLD not in warned:
        parts.append(f"last updated {_short(entry.last_updated, 40)}" if entry.last_updated
                     else "last updated: not stated")
    if entry.valid_until and EXPIRED not in warned:
        parts.append(f"valid until {_short(entry.valid_until, 40)}")
    warning = warning_for(found)
    if warning:
        parts.append(f":warning: *{escape(warning)}*")
    return f"• *{_short(entry.name)}* — " + " · ".join(parts)


def render_certifications(entries: list[CertificationEntry], freshness: Freshness, *,
                          command: str = "/cert", notice: str | None = None) -> Message:
    """`/cert list`: every certification with its scope and last-updated date, sorted by
    name, a :warning: on each whose newest source is old or whose certificate has expired."""
    cmd = escape(command)
    lines = [_certification_line(e, freshness) for e in entries]
    return _catalogue_message(
        f"Certifications ({len(entries)})", lines,
        empty="No certifications yet: the document index is empty.",
        footer=(f"Scope and dates as the documents (or data/certifications.yaml) state them. "
                f":warning: = last updated over {freshness.stale_days} days ago, or past its "
                f"validity. For the passages, ask `{cmd} CERTIFICATION`; certificate numbers: "
                f"`{cmd} numbers`."),
        notice=notice, more=lambda left: f"…and {left} more certifications not shown here; "
                                         f"ask `{cmd} CERTIFICATION` about any of them.")


def render_numbers(entries: list[NumberEntry], *, command: str = "/cert",
                   notice: str | None = None) -> Message:
    """`/cert numbers`: every certificate number, bold, with its label as the source states
    it, under its certification (in the order `index.listing.numbers` gives)."""
    cmd = escape(command)
    lines: list[str] = []
    current = None
    for n in entries:
        if n.certification != current:
            current = n.certification
            lines.append(f"*{_short(current)}*")
        lines.append("• " + _number(CertificateNumber(n.label, n.number), bold=True))
    return _catalogue_message(
        f"Certificate numbers ({len(entries)})", lines,
        empty="No certificate number is stated in the documents I can quote here.",
        footer=(f"Each number exactly as its document states it. For the passage and its date, ask "
                f"`{cmd} CERTIFICATION certificate number`."),
        notice=notice, counts=lambda line: line.startswith("• "),
        more=lambda left: f"…and {left} more numbers not shown here; ask `{cmd} CERTIFICATION "
                          "certificate number` for them.")


def render_text(text: str) -> Message:
    """A plain notice (rate limit, refusal, error) as one escaped section."""
    body = _fit(text, MAX_TEXT, escape)
    return Message(text=body, blocks=[_section(body)])
