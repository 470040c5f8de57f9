"""A Slack message's text as the plain words of a question (the "Ask certdesk" shortcut).

A message's `text` is Slack's markup: `<@U123>` mentions, `<#C123|deals>` channels,
`<https://…|label>` links, `<!here>`, `&lt;` escapes, `*bold*` and `` `code` `` markers, `>`
quotes. The engine should see what a person reads, and the answer restates the question, so
the markup goes: people and broadcast mentions are dropped (they are not what is asked), a
channel or link keeps its label, escapes are decoded (the answer escapes them again), and
formatting markers around words are removed. The engine itself caps a pasted wall of text.
"""

from __future__ import annotations

import re
from typing import Any

_ENTITY = re.compile(r"<([^<>]*)>")
# A formatting marker run at the edge of a word: "*Are* we _SOC 2_ ~certified~?"
_MARKERS = re.compile(r"(?<![\w*_~])[*_~]+(?=[^\s*_~])|(?<=[^\s*_~])[*_~]+(?![\w*_~])")
_QUOTE = re.compile(r"^[ \t]*(?:>|&gt;)+ ?", re.MULTILINE)


def _entity(match: re.Match[str]) -> str:
    """What a reader sees of one `<…>` entity, minus mentions of people and broadcasts."""
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith(("@", "!")):
        # People, user groups, @here/@channel: not part of the question. A date keeps its text.
        return label if target.startswith("!date") else " "
    if target.startswith("#"):
        return f"#{label}" if label else " "
    return label or target


def plain_text(text: str) -> str:
    """Slack message markup to the words a person reads, on one line."""
    text = _QUOTE.sub("", text or "")
    text = _ENTITY.sub(_entity, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = text.replace("```", " ").replace("`", "")
    return " ".join(_MARKERS.sub("", text).split())


def question_from_message(message: dict[str, Any]) -> str:
    """The question a message asks: its text, without markup; "" when it has none."""
    text = message.get("text")
    return plain_text(text) if isinstance(text, str) else ""


def has_attachments(message: dict[str, Any]) -> bool:
    """Whether the message carries files or attachments (what a message without text holds)."""
    return bool(message.get("files") or message.get("attachments"))
