"""WeChat's (微信客服) renderer: every owner and survey template as plain text within WeChat's
byte limits, a step's replies merged into one message with its menu, menus paged by 更多, and
ids that are exactly Telegram's callback data."""

from __future__ import annotations

import re
from html import escape
from typing import Any

import pytest

from bot.desk.callbacks import pack
from bot.outbound import Card, Copy, Message, Recipient, Replies, Unrenderable
from bot.rendering import TelegramRenderer
from bot.wecom.plain_text import html_to_text, split_text
from bot.wecom.render import (
    MENU_KEY,
    WeComRenderer,
    menu_page,
    more_page,
    public,
)
from desk import commands as c
from desk.effects import Button
from dialogs.events import Choice, Reply
from dialogs.template_samples import contexts
from dialogs.texts import Texts

from .dialog_driver import identified_owner
from .test_dialog_repair import walk_to_readback

TEXTS = Texts()
WECOM = WeComRenderer(TEXTS)
TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>")
ENTITY = re.compile(r"&(#\d+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def shown(payload: dict[str, Any]) -> str:
    """Every text the owner reads in one message."""
    if payload["msgtype"] == "text":
        return payload["text"]["content"]
    m = payload["msgmenu"]
    items = [e["click"]["content"] for e in m["list"]]
    return "\n".join([m.get("head_content", ""), *items, m.get("tail_content", "")])


def check_limits(payload: dict[str, Any]) -> None:
    """kf/send_msg's limits, on the body as it is sent."""
    body = public(payload)
    assert not any(k.startswith("_") for k in body)
    if body["msgtype"] == "text":
        assert set(body) == {"msgtype", "text"}
        assert 1 <= nbytes(body["text"]["content"]) <= 2048
        return
    assert body["msgtype"] == "msgmenu" and set(body) == {"msgtype", "msgmenu"}
    m = body["msgmenu"]
    assert set(m) <= {"head_content", "list", "tail_content"}
    assert nbytes(m.get("head_content", "")) <= 1024
    assert nbytes(m.get("tail_content", "")) <= 1024
    assert 1 <= len(m["list"]) <= 10
    for entry in m["list"]:
        assert entry["type"] == "click" and set(entry["click"]) == {"id", "content"}
        assert 1 <= nbytes(entry["click"]["id"]) <= 64
        assert 1 <= nbytes(entry["click"]["content"]) <= 128


def owner_templates() -> list[str]:
    return [
        n
        for n in TEXTS.template_names()
        if TEXTS.template_path(n).split("/")[0] in ("owner", "survey")
    ]


def test_the_owner_and_survey_templates_are_many():
    names = owner_templates()
    assert len(names) > 100 and "repair_readback" in names and "survey_question" in names


@pytest.mark.parametrize("name", owner_templates())
def test_every_owner_template_is_plain_text_within_the_limits(name):
    choices = [[Choice(f"选项{i}", f"7:{i}") for i in range(3)]]
    for ctx in contexts():
        html = TEXTS.render(name, ctx)
        for rows in ([], choices):
            parts = WECOM.render(Replies([Reply(name, dict(ctx), rows=rows)]))
            assert [p.method for p in parts] == ["send_msg"] * len(parts)
            for part in parts:
                check_limits(part.payload)
                text = shown(part.payload)
                assert TAG.search(text) is None, (name, text)
                assert ENTITY.search(text) is None, (name, text)
            if rows:
                assert parts[-1].payload["msgtype"] == "msgmenu"
            text = "\n".join(shown(p.payload) for p in parts)
            # bold is bracketed; the sample's own "<接口>" and "<急>" are shown as typed
            if re.search(r"<b>[^<]+</b>", html):
                assert "【" in text and "】" in text, (name, text)
            for typed in ("<接口>", "<急>", " & "):
                assert (typed in text) == (escape(typed, quote=False) in html), (name, typed)


def test_markup_becomes_plain_text_unescaped_exactly_once():
    assert html_to_text("工单<b>BX-1</b>已登记") == "工单【BX-1】已登记"
    assert html_to_text("【<b>BX-1</b>】与<b><b>双重</b></b>") == "【BX-1】与【双重】"
    assert html_to_text("空的<b> </b>加粗") == "空的加粗"
    assert html_to_text("<i>斜体</i><u>下划线</u><code>a&lt;b</code>") == "斜体下划线a<b"
    assert html_to_text('看<a href="https://x.cn/p">这里</a>') == "看这里 https://x.cn/p"
    assert html_to_text('<a href="https://x.cn">https://x.cn</a>') == "https://x.cn"
    assert html_to_text("一<br>二<br/>三\n四") == "一\n二\n三\n四"
    # an owner who typed "&lt;" sees "&lt;": the autoescape made it "&amp;lt;", undone once
    assert html_to_text("您说：&amp;lt;急&amp;gt; &amp; &lt;b&gt;") == "您说：&lt;急&gt; & <b>"
    rendered = TEXTS.render("owner_agent_reply", {"agent": "小林", "text": "a&lt;b <i>x</i>"})
    assert html_to_text(rendered) == "【客服小林】：a&lt;b <i>x</i>"


async def test_a_steps_replies_and_the_readback_menu_are_one_message():
    o = await identified_owner()
    await walk_to_readback(o)
    await o.send("/menu")
    await o.press("继续刚才的报修")
    replies = o.last.replies
    assert [r.template for r in replies] == ["resumed", "repair_readback"]

    (part,) = WECOM.render(Replies(replies))
    check_limits(part.payload)
    menu = part.payload["msgmenu"]
    texts = [html_to_text(TEXTS.render(r.template, r.context)) for r in replies]
    assert menu["head_content"] == "\n\n".join(texts)
    assert "【3栋1单元3A室】" in menu["head_content"] and "对吗？" in menu["head_content"]
    # the ids are exactly Telegram's callback data, so the same handler checks them
    telegram = TelegramRenderer(TEXTS).render(Replies(replies))
    keyboard = telegram[-1].payload["reply_markup"]["inline_keyboard"]
    expected = [(b["callback_data"], b["text"]) for row in keyboard for b in row]
    assert [(e["click"]["id"], e["click"]["content"]) for e in menu["list"]] == expected
    assert [label for _, label in expected] == ["✅ 确认", "✏️ 修改", "取消"]
    assert all(i.startswith("c:") for i, _ in expected)


def test_only_the_last_prompts_choices_and_standing_ones_are_offered():
    ctx = contexts()[0]
    stale = Reply("cancelled", ctx, rows=[[Choice("旧", "4:0")]])
    survey = Reply("survey_question", ctx, rows=[[Choice("满意", "s:3:overall:5")]])
    survey.standing = True
    ask = Reply("help", ctx, rows=[[Choice("新", "5:0")]])
    (part,) = WECOM.render(Replies([stale, survey, ask]))
    ids = [e["click"]["id"] for e in part.payload["msgmenu"]["list"]]
    assert ids == ["s:3:overall:5", "c:5:0"]
    # a choice before a closing remark stays valid, and is offered with the merged text
    (part,) = WECOM.render(Replies([ask, Reply("cancelled", ctx)]))
    assert [e["click"]["id"] for e in part.payload["msgmenu"]["list"]] == ["c:5:0"]
    assert part.payload["msgmenu"]["head_content"].endswith(
        html_to_text(TEXTS.render("cancelled", ctx))
    )


def test_a_contact_request_is_text_and_choices_without_contact_sharing():
    ctx = {**contexts()[0]}
    reply = Reply("id_ask_contact", ctx, rows=[[Choice("手动填写", "9:0")]], request_contact=True)
    (part,) = WECOM.render(Replies([reply]))
    assert [e["click"]["id"] for e in part.payload["msgmenu"]["list"]] == ["c:9:0"]
    assert "request_contact" not in str(part.payload)


def test_twenty_three_choices_page_by_more():
    rows = [[Choice(f"第{i}项", f"12:{i}")] for i in range(23)]
    (part,) = WECOM.render(Replies([Reply("menu", {"salutation": ""}, rows=rows)]))
    first = part.payload
    assert menu_page(first, 0) == first
    pages, page, seen = [], first, []
    while page is not None:
        check_limits(page)
        pages.append(page)
        ids = [e["click"]["id"] for e in page["msgmenu"]["list"]]
        more = [i for i in ids if more_page(i) is not None]
        seen += [i for i in ids if more_page(i) is None]
        assert len(more) <= 1 and (not more or ids[-1] == more[0])
        page = menu_page(first, more_page(more[0])) if more else None
    assert [len(p["msgmenu"]["list"]) for p in pages] == [10, 10, 5]
    assert [p[MENU_KEY]["page"] for p in pages] == [0, 1, 2]
    assert seen == [f"c:12:{i}" for i in range(23)]  # every item once, in order
    assert pages[0]["msgmenu"]["list"][-1]["click"]["id"] == "more:1"
    assert pages[1]["msgmenu"]["list"][-1]["click"]["id"] == "more:2"
    assert "head_content" in pages[0]["msgmenu"] and "head_content" not in pages[1]["msgmenu"]
    label = pages[0]["msgmenu"]["list"][-1]["click"]["content"]
    assert label == TEXTS.labels.get("more", TEXTS.button("page_next"))
    assert menu_page(first, 3) is None and menu_page(first, -1) is None
    assert menu_page({"msgtype": "text", "text": {"content": "x"}}, 0) is None
    # a page drawn from a later page (as read back from the outbox) is the same page
    assert menu_page(pages[2], 1) == pages[1]
    assert more_page("more:12") == 12 and more_page("c:1:0") is None and more_page("more:x") is None


def test_ten_choices_fit_one_page_and_eleven_need_two():
    for count, sizes in ((10, [10]), (11, [10, 2]), (19, [10, 10]), (20, [10, 10, 2])):
        rows = [[Choice(str(i), f"1:{i}") for i in range(count)]]
        (part,) = WECOM.render(Replies([Reply("menu", {"salutation": ""}, rows=rows)]))
        got, n = [], 0
        while (page := menu_page(part.payload, n)) is not None:
            got.append(len(page["msgmenu"]["list"]))
            n += 1
        assert got == sizes, count


def test_a_ten_thousand_character_text_splits_within_the_byte_limit():
    line = "业主反映：楼道灯不亮🙂 and the lift is slow; 已派工程部处理。"
    text = "\n".join(line * (1 + i % 5) for i in range(200))[:10_000]
    text += "\n" + "长" * 1500  # one line longer than a message: cut between characters
    assert len(text) >= 10_000
    parts = split_text(text, 2048)
    assert len(parts) > 5 and all(0 < nbytes(p) <= 2048 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    # through the renderer: the agent's long reply reaches the owner whole, in several messages
    rendered = WECOM.render(Message("owner_agent_reply", {"agent": "小林", "text": text}))
    for p in rendered:
        check_limits(p.payload)
    joined = "".join(p.payload["text"]["content"] for p in rendered).replace("\n", "")
    assert joined == ("【客服小林】：" + text).replace("\n", "")


def test_a_long_text_with_a_menu_keeps_the_menu_on_the_last_message():
    rows = [[Choice("确认", "3:0")]]
    # cut at a line break: head and tail hold it all, one message
    medium = "\n".join(["一二三四五六七八九十" * 10] * 5)  # 1504 bytes and line breaks
    (part,) = WECOM.render(
        Replies([Reply("owner_agent_reply", {"agent": "小", "text": medium}, rows=rows)])
    )
    check_limits(part.payload)
    m = part.payload["msgmenu"]
    assert (m["head_content"] + "\n" + m["tail_content"]).endswith(medium)
    # longer than both: text messages first, the menu on the last one
    long = "\n".join(["一二三四五六七八九十" * 30] * 6)
    parts = WECOM.render(
        Replies([Reply("owner_agent_reply", {"agent": "小", "text": long}, rows=rows)])
    )
    assert [p.payload["msgtype"] for p in parts][-1] == "msgmenu"
    assert all(p.payload["msgtype"] == "text" for p in parts[:-1]) and len(parts) > 1
    for p in parts:
        check_limits(p.payload)
    joined = "".join(shown(p.payload).removesuffix("\n确认\n") for p in parts)
    assert joined.replace("\n", "") == ("【客服小】：" + long).replace("\n", "")


def test_desk_buttons_carry_the_packed_command_and_long_labels_are_clipped():
    solved = Button("owner_btn_solved", c.OwnerAnswer(7, True))
    long = Button("很长的按钮" * 20, c.OwnerAnswer(7, False), literal=True)
    ctx = {**contexts()[0]}
    (part,) = WECOM.render(Message("owner_completed", ctx, buttons=[[solved, long]]))
    check_limits(part.payload)
    items = [e["click"] for e in part.payload["msgmenu"]["list"]]
    assert [i["id"] for i in items] == [pack(solved.command), pack(long.command)]
    assert items[0]["content"] == TEXTS.button("owner_btn_solved")
    assert items[1]["content"].endswith("…") and nbytes(items[1]["content"]) <= 128
    assert items[1]["content"].startswith("很长的按钮很长的按钮")


def test_what_wechat_cannot_carry_is_unrenderable():
    with pytest.raises(Unrenderable):
        WECOM.render(Copy(Recipient("telegram", "42"), 5))
    with pytest.raises(Unrenderable):
        WECOM.render(Card("agent_card", {}, edit=True))
    with pytest.raises(Unrenderable):
        WECOM.render(Card("agent_card", {}))
    too_long = Reply("menu", {"salutation": ""}, rows=[[Choice("x", "1" * 70)]])
    too_long.standing = True  # sent as it is: 70 bytes, more than a menu id holds
    with pytest.raises(ValueError):
        WECOM.render(Replies([too_long]))
