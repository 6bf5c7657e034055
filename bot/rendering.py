"""Telegram's renderer: replies and desk messages made into Bot API payloads (JSON-able, so they
fit the outbox): HTML split under 4096 characters into a few valid messages (bot/telegram_html.py),
inline keyboards whose data is the command packed as CallbackData, a reply keyboard to share a
contact."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from desk.effects import Button
from dialogs.events import Reply
from dialogs.texts import Texts

from .desk.callbacks import pack
from .outbound import Card, Content, Copy, Message, Part, Replies, Unrenderable
from .telegram_html import LIMIT, clip_html, split_html, units

CALLBACK_PREFIX = "c:"
# an outbox method of our own: a WeChat owner's photo or file, posted into the agents' group
WECOM_MEDIA = "sendWeComMedia"


def payloads(reply: Reply, texts: Texts) -> list[dict[str, Any]]:
    """sendMessage parameters; the keyboard goes on the last part."""
    text = texts.render(reply.template, reply.context)
    chunks = split_html(text)
    out: list[dict[str, Any]] = [{"text": c, "parse_mode": "HTML"} for c in chunks]
    markup: dict[str, Any] | None = None
    if reply.request_contact:
        rows = [[{"text": texts.button("share_contact"), "request_contact": True}]]
        rows += [[{"text": c.label} for c in row] for row in reply.rows]
        markup = {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}
    elif reply.rows:
        markup = {
            "inline_keyboard": [
                [{"text": c.label, "callback_data": callback_data(reply, c.value)} for c in row]
                for row in reply.rows
            ]
        }
    elif reply.remove_keyboard:
        markup = {"remove_keyboard": True}
    if markup is not None:
        out[-1]["reply_markup"] = markup
    return out


def callback_data(reply: Reply, value: str) -> str:
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
            and units(prev["text"]) + 2 + units(p["text"]) <= LIMIT
        ):
            out[-1] = {**p, "text": prev["text"] + "\n\n" + p["text"]}
        else:
            out.append(dict(p))
    return out


class TelegramRenderer:
    """Each kind of outbound content as Bot API methods and their parameters."""

    channel = "telegram"

    def __init__(self, texts: Texts):
        self.texts = texts

    def render(self, content: Content) -> list[Part]:
        match content:
            case Replies(replies=replies):
                parts = merge([p for r in replies for p in payloads(r, self.texts)])
                return [Part("sendMessage", p) for p in parts]
            case Message():
                parts = payloads(Reply(content.template, dict(content.context)), self.texts)
                markup = self.keyboard(content.buttons)
                if markup:
                    parts[-1]["reply_markup"] = markup
                return [Part("sendMessage", p) for p in parts]
            case Card():
                # one message, cut rather than split: the card is edited in place by its id,
                # and an edit with no buttons must clear the old ones
                text = self.texts.render(content.template, dict(content.context))
                payload: dict[str, Any] = {"text": clip_html(text), "parse_mode": "HTML"}
                payload["reply_markup"] = self.keyboard(content.buttons) or {"inline_keyboard": []}
                return [Part("editMessageText" if content.edit else "sendMessage", payload)]
            case Copy(source=source, file_id=file_id) if (
                source.channel == "wecom" and file_id.startswith("wecom:")
            ):
                # a WeChat photo or file: fetched from WeChat when it is sent (media/get)
                return [Part(WECOM_MEDIA, {"media": file_id})]
            case Copy(source=source, message_id=message_id):
                if source.channel != self.channel:
                    raise Unrenderable(f"a {source.channel} message cannot be copied")
                return [
                    Part("copyMessage", {"from_chat_id": source.address, "message_id": message_id})
                ]
        raise Unrenderable(f"nothing renders {type(content).__name__}")

    def keyboard(self, rows: Sequence[Sequence[Button]]) -> dict[str, Any] | None:
        """Typed buttons as an inline keyboard: the label worded from the button labels (or
        shown as it is), the command packed as its CallbackData. The data only says what was
        asked for; it is checked again on the server when tapped."""
        if not rows:
            return None
        return {
            "inline_keyboard": [
                [{"text": self.label(b), "callback_data": pack(b.command)} for b in row]
                for row in rows
                if row
            ]
        }

    def label(self, b: Button) -> str:
        return b.label if b.literal else self.texts.button(b.label, **dict(b.params))
