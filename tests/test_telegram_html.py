"""The splitter: rendered HTML cut into a few messages Telegram accepts, never inside an entity
or a tag, tags closed at a cut and opened again after it, the rest clipped with "…"."""

from __future__ import annotations

import pytest

from bot.rendering import merge, payloads
from bot.telegram_html import LIMIT, MAX_PARTS, clip_html, split_html, units
from dialogs.events import Choice, Reply
from dialogs.texts import Texts

from .telegram_html_rules import assert_valid_telegram_html


def check(parts: list[str], limit: int = LIMIT) -> None:
    assert 1 <= len(parts) <= MAX_PARTS
    for p in parts:
        assert 0 < units(p) <= limit, units(p)
        assert_valid_telegram_html(p)


def test_2048_characters_of_lt_and_amp_make_three_messages_not_thousands():
    # as the template renders the owner's "<&" * 1024
    text = "💬 <b>王女士</b>：\n" + "&lt;&amp;" * 1024 + "\n\n<i>回复本条消息即可答复业主</i>"
    parts = split_html(text)
    check(parts)
    assert len(parts) == 3
    assert "".join(parts).count("&lt;&amp;") == 1024  # nothing lost, nothing cut in half


@pytest.mark.parametrize(
    "text",
    [
        "&amp;" * 5000,
        "&#39;" * 3000 + "x" * 3000,
        "<b>" + "粗" * 6000 + "</b>",
        "<b>a<i>" + "斜&lt;" * 3000 + "</i>b</b>" + "尾" * 10,
        '<a href="https://example.com/a?b=1&amp;c=2">' + "链" * 5000 + "</a>",
        ("一行字\n" * 3000),
        "😀" * 5000,  # two UTF-16 units each
    ],
)
def test_every_piece_is_valid_html_within_the_limit(text):
    check(split_html(text))


def test_lone_markup_characters_are_kept_whole():
    parts = split_html("<<&&&" + "x" * 9000)
    assert len(parts) == 3 and parts[0].startswith("<<&&&")
    assert all(units(p) <= LIMIT for p in parts)


def test_tags_open_at_a_cut_are_closed_and_opened_again():
    text = "<b>" + "粗" * 6000 + "</b>"
    first, second = split_html(text)
    assert first.startswith("<b>") and first.endswith("</b>")
    assert second.startswith("<b>") and second.endswith("</b>")
    assert (first + second).count("粗") == 6000


def test_a_line_break_is_preferred_as_the_place_to_cut():
    text = "\n".join(f"第{i}行" + "字" * 30 for i in range(300))
    parts = split_html(text)
    check(parts)
    # each piece ends with a whole line: the next starts with the next line's number
    assert all(p.startswith("第") for p in parts)
    assert sum(p.count("\n") + 1 for p in parts) == 300


def test_too_long_is_clipped_with_an_ellipsis_after_a_few_messages():
    parts = split_html("<b>" + "长" * 100_000 + "</b>")
    check(parts)
    assert len(parts) == MAX_PARTS and parts[-1].endswith("…</b>")


def test_a_card_is_one_message_clipped_outside_entities():
    text = "卡片 " + "&amp;" * 2000
    clipped = clip_html(text)
    check([clipped])
    assert clipped.endswith("&amp;…")
    assert clip_html("短") == "短"


def test_a_long_reply_is_split_with_its_keyboard_on_the_last_piece():
    reply = Reply(
        "owner_agent_reply",
        {"agent": "小林", "text": "<&" * 1000},
        rows=[[Choice("好的", "ok")]],
    )
    out = payloads(reply, Texts())
    check([p["text"] for p in out])
    assert len(out) == 3 and "reply_markup" in out[-1]
    assert all("reply_markup" not in p for p in out[:-1])
    assert len(merge(out)) == 3  # nothing joined back over the limit
