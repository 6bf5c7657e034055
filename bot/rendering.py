"""Replies from dialogs/ rendered into Bot API payloads (JSON-able, so they fit the outbox)."""

from __future__ import annotations

from typing import Any

from dialogs.events import Reply
from dialogs.texts import Texts

LIMIT = 4096
CALLBACK_PREFIX = "c:"


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Split on line breaks (never inside a tag) so no part passes Telegram's limit."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    cur = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = limit - len(cur) - 1 if cur else limit
            # never cut inside an HTML entity or tag
            while cut > 0 and (
                "<" in line[max(0, cut - 8) : cut] or "&" in line[max(0, cut - 8) : cut]
            ):
                cut -= 1
            cut = max(cut, 1)
            if cur:
                parts.append(cur)
                cur = ""
                continue
            parts.append(line[:cut])
            line = line[cut:]
        if cur and len(cur) + 1 + len(line) > limit:
            parts.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        parts.append(cur)
    return parts


def payloads(reply: Reply, texts: Texts) -> list[dict[str, Any]]:
    """sendMessage parameters; the keyboard goes on the last part."""
    text = texts.render(reply.template, reply.context)
    chunks = split_text(text)
    out: list[dict[str, Any]] = [{"text": c, "parse_mode": "HTML"} for c in chunks]
    markup: dict[str, Any] | None = None
    if reply.request_contact:
        rows = [[{"text": texts.button("share_contact"), "request_contact": True}]]
        rows += [[{"text": c.label} for c in row] for row in reply.rows]
        markup = {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}
    elif reply.rows:
        markup = {
            "inline_keyboard": [
                [{"text": c.label, "callback_data": _callback(reply, c.value)} for c in row]
                for row in reply.rows
            ]
        }
    elif reply.remove_keyboard:
        markup = {"remove_keyboard": True}
    if markup is not None:
        out[-1]["reply_markup"] = markup
    return out


def _callback(reply: Reply, value: str) -> str:
    # a standing button's value is its own pointer (a survey's answer), checked when pressed
    return value if reply.standing else CALLBACK_PREFIX + value


def merge(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join a step's consecutive messages into one where Telegram allows it: fewer messages read
    better for the owner and cost less of the chat's rate limit. A message that carries a
    keyboard ends a group; so does the length limit."""
    out: list[dict[str, Any]] = []
    for p in parts:
        prev = out[-1] if out else None
        if (
            prev is not None
            and "reply_markup" not in prev
            and len(prev["text"]) + 2 + len(p["text"]) <= LIMIT
        ):
            out[-1] = {**p, "text": prev["text"] + "\n\n" + p["text"]}
        else:
            out.append(dict(p))
    return out
