"""WeChat's (微信客服) renderer: replies and desk messages made into kf/send_msg bodies, without
the addressee (touser, open_kfid, msgid), which the sender adds.

WeChat allows 5 messages per 48 hours after the owner last wrote, so a dialog step's replies are
merged into one message, and the readback and its menu go in one message; only text beyond the
byte limits is split. Buttons become a click menu whose ids are exactly Telegram's callback data
(bot/rendering.py, bot/desk/callbacks.py), so a tap passes the same server-side checks on either
channel. WeChat's limits (kf/send_msg): text 2048 bytes; a menu's head and tail text 1024 bytes
each; at most 10 items, an item's id 1-64 bytes and its text 1-128 bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from desk.effects import Button
from dialogs.events import Reply
from dialogs.texts import Texts

from ..desk.callbacks import pack
from ..outbound import Card, Content, Copy, Message, Part, Replies, Unrenderable
from ..rendering import callback_data
from .plain_text import (
    ELLIPSIS,
    byte_len,
    clip_bytes,
    html_to_text,
    split_at_line,
    split_last,
    split_text,
)

METHOD = "send_msg"
TEXT_LIMIT = 2048
HEAD_LIMIT = 1024  # the menu's head_content, and its tail_content
MENU_ITEMS = 10
ID_LIMIT = 64
LABEL_LIMIT = 128
MORE_PREFIX = "more:"
# the whole menu, kept in the outbox row so later pages can be drawn from it; never sent
MENU_KEY = "_menu"


class WeComRenderer:
    channel = "wecom"

    def __init__(self, texts: Texts):
        self.texts = texts

    def render(self, content: Content) -> list[Part]:
        match content:
            case Replies(replies=replies):
                texts = (self.text(r.template, r.context) for r in replies)
                return self.parts("\n\n".join(t for t in texts if t), live_choices(replies))
            case Message():
                items = [(pack(b.command), self.label(b)) for row in content.buttons for b in row]
                return self.parts(self.text(content.template, dict(content.context)), items)
            case Card():
                # a ticket's card lives in the agents' Telegram group, edited in place there
                raise Unrenderable("a ticket's card is not carried on WeChat")
            case Copy(source=source):
                raise Unrenderable(f"a {source.channel} message cannot be copied to WeChat")
        raise Unrenderable(f"nothing renders {type(content).__name__}")

    def text(self, template: str, context: dict[str, Any]) -> str:
        return html_to_text(self.texts.render(template, context))

    def label(self, b: Button) -> str:
        return b.label if b.literal else self.texts.button(b.label, **dict(b.params))

    def more_label(self) -> str:
        # "more" is to be added to the button labels; until then the pager's own word
        return self.texts.labels.get("more") or self.texts.button("page_next")

    def parts(self, text: str, items: Sequence[tuple[str, str]]) -> list[Part]:
        """The text (split only beyond the limits), with the menu on the last message."""
        if not items:
            return [Part(METHOD, text_payload(p)) for p in split_text(text, TEXT_LIMIT)]
        before, head, tail = _menu_text(text)
        menu: dict[str, Any] = {}
        if head:
            menu["head_content"] = head
        if tail:
            menu["tail_content"] = tail
        entries = [
            [_checked_id(i), clip_bytes(label.strip(), LABEL_LIMIT) or ELLIPSIS]
            for i, label in items
        ]
        full = {
            "msgtype": "msgmenu",
            "msgmenu": menu,
            MENU_KEY: {"items": entries, "page": 0, "more": self.more_label()},
        }
        first = menu_page(full, 0)
        assert first is not None
        return [Part(METHOD, text_payload(p)) for p in before] + [Part(METHOD, first)]


def live_choices(replies: Sequence[Reply]) -> list[tuple[str, str]]:
    """The menu of a step's merged message: (id, label) of every choice still valid. Each prompt
    with choices makes the earlier prompts' choices stale (dialogs/session.py `ask`), so only
    the last prompt's choices are kept, with every standing choice (a survey's answers, valid
    whatever comes next), in the order the replies came."""
    asks = [i for i, r in enumerate(replies) if r.rows and not r.standing]
    last = asks[-1] if asks else -1
    return [
        (callback_data(r, c.value), c.label)
        for i, r in enumerate(replies)
        if r.standing or i == last
        for row in r.rows
        for c in row
    ]


def text_payload(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


def _menu_text(text: str) -> tuple[list[str], str, str]:
    """(text messages before the menu, the menu's head, its tail): one message whenever the
    head and the tail can hold the text, cut at a line break."""
    if byte_len(text) <= HEAD_LIMIT:
        return [], text, ""
    both = split_at_line(text, HEAD_LIMIT)
    if both is not None:
        return [], both[0], both[1]
    before, head = split_last(text, HEAD_LIMIT)
    return split_text(before, TEXT_LIMIT), head, ""


def _checked_id(value: str) -> str:
    # Telegram's callback data is at most 64 bytes too: a longer id is a bug, not a message
    if not 1 <= byte_len(value) <= ID_LIMIT:
        raise ValueError(f"a menu id must be 1-{ID_LIMIT} bytes: {value!r}")
    return value


def _pages(count: int) -> list[tuple[int, int, bool]]:
    """(first, end, whether a 更多 item follows) of each page: 9 items and 更多 while more than
    10 remain, then the rest (at most 10)."""
    pages, start = [], 0
    while True:
        if count - start <= MENU_ITEMS:
            pages.append((start, count, False))
            return pages
        pages.append((start, start + MENU_ITEMS - 1, True))
        start += MENU_ITEMS - 1


def menu_page(payload: dict[str, Any], page: int) -> dict[str, Any] | None:
    """Page `page` of a menu message (rendered, or read back from its outbox row); None when the
    payload has no menu or no such page. The first page keeps the head and tail text; a later
    page is the items alone. The result keeps the whole menu, so it can be paged on again."""
    menu = payload.get(MENU_KEY)
    if not menu:
        return None
    items = menu["items"]
    pages = _pages(len(items))
    if not 0 <= page < len(pages):
        return None
    start, end, more = pages[page]
    entries = [_click(i, label) for i, label in items[start:end]]
    if more:
        entries.append(_click(f"{MORE_PREFIX}{page + 1}", menu["more"]))
    body: dict[str, Any] = {}
    if page == 0:
        body = {k: v for k, v in payload["msgmenu"].items() if k != "list"}
    body["list"] = entries
    return {"msgtype": "msgmenu", "msgmenu": body, MENU_KEY: {**menu, "page": page}}


def more_page(click_id: str) -> int | None:
    """The page a 更多 item asks for, or None when the id is not a 更多 item's."""
    if not click_id.startswith(MORE_PREFIX):
        return None
    rest = click_id.removeprefix(MORE_PREFIX)
    return int(rest) if rest.isascii() and rest.isdigit() else None


def public(payload: dict[str, Any]) -> dict[str, Any]:
    """The body as WeChat takes it: the private keys (the whole menu) left out."""
    return {k: v for k, v in payload.items() if not k.startswith("_")}


def _click(click_id: str, label: str) -> dict[str, Any]:
    return {"type": "click", "click": {"id": click_id, "content": label}}
