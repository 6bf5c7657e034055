"""WeChat's identity step (dialogs/flows/identify_sms.py): a typed mobile number proven by a
6-digit SMS code (5 minutes, 5 tries, one code a minute per number), or reporting unproven;
the ticket marked, and 我的工单 by what is proven, across Telegram and WeChat."""

from __future__ import annotations

from functools import partial

from dialogs.ports import CODE_TRIES

from .dialog_driver import Owner, identified_owner
from .memory_ports import memory_ports

PHONE = "13800000301"  # 王女士, 3栋1单元3A室, in the sample registry


class WeChatOwner(Owner):
    """The dialog driver on channel "wecom", with the transcript of what was said."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.engine.step = partial(self.engine.step, channel="wecom")
        self.transcript: list[str] = []

    async def _go(self, ev):
        said = ev.text if ev.kind in ("text", "command") else ""
        if ev.kind == "choice":
            said = next((lb for lb, tok in self.buttons if tok == ev.token), ev.token)
            said = f"[{said}]"
        res = await super()._go(ev)
        self.transcript.append(f"业主：{said}")
        self.transcript.extend(f"客服：{t}" for t in self.seen)
        # WeChat draws buttons as a menu of at most 10 items
        assert all(sum(len(r) for r in reply.rows) <= 10 for reply in res.replies)
        return res

    @property
    def sms(self):
        return self.ports.verification

    def code(self, phone: str = PHONE) -> str:
        return self.sms.last_code(phone)


def plain(text: str) -> str:
    return text.replace("<b>", "").replace("</b>", "")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def typed_phone(phone: str = PHONE, **kw) -> WeChatOwner:
    o = WeChatOwner(**kw)
    await o.send("/start")
    await o.send(phone)
    assert o.step == "id.sms_code", o.text
    return o


async def verified(phone: str = PHONE, **kw) -> WeChatOwner:
    o = await typed_phone(phone, **kw)
    await o.send(o.code(phone))
    return o


# --- asking the number ---------------------------------------------------------------------------
async def test_wechat_asks_a_typed_mobile_number_instead_of_a_contact():
    o = WeChatOwner()
    await o.send("/start")
    assert o.step == "id.sms_phone"
    assert "请您输入本人的手机号" in o.text and "6位数字的短信验证码" in o.text
    assert "只用于" in o.text  # why and how the number is used
    assert not any(r.request_contact for r in o.last.replies)  # WeChat has no contact button
    assert o.labels == ["先报事，稍后验证"]
    assert "你" not in o.text


async def test_a_bad_number_is_answered_politely_and_the_step_stays():
    o = WeChatOwner()
    await o.send("/start")
    await o.send("1380000")
    assert "没能识别" in o.text and "11位手机号" in o.text and o.step == "id.sms_phone"
    await o.send("我家在3栋")
    assert "这一步需要您输入手机号" in o.text and o.step == "id.sms_phone"
    await o.send("010-12345678")  # a landline cannot receive the code
    assert "座机号码收不到短信" in o.text and o.step == "id.sms_phone"
    assert o.sms.sent == []


async def test_the_code_is_sent_to_the_typed_number_with_its_deadline():
    o = WeChatOwner()
    await o.send("/start")
    await o.send("138 0000 0301")
    assert o.sms.sent == [("+8613800000301", o.code())]
    assert len(o.code()) == 6 and o.code().isdigit()
    # 10:00 in Shanghai: valid 5 minutes
    assert "已向尾号0301的手机发送6位数字验证码，请在5分钟内（10:05前）输入。" in o.text
    assert o.step == "id.sms_code"
    assert o.labels == ["重新发送验证码", "换一个手机号", "先报事，稍后验证"]
    assert o.code() not in o.text  # the code goes by SMS only


# --- the code ------------------------------------------------------------------------------------
async def test_the_right_code_proves_the_phone_and_the_registry_match_is_read_back():
    o = await typed_phone()
    await o.send(o.code())
    t = plain(o.text)
    assert "验证成功" in t and "尾号0301" in t
    assert "您是3栋1单元3A室的王女士，对吗？" in t  # as after a Telegram contact
    await o.press("是")
    p = o.state["profile"]
    assert o.step == "menu.main"
    assert p["salutation"] == "王女士" and p["phone"] == PHONE
    assert p["phone_verified"] is True and p["identity_verified"] is True
    assert o.sms.proven == {o.account_id: PHONE}  # accounts.phone_verified


async def test_a_code_typed_with_full_width_digits_and_spaces_is_read():
    o = await typed_phone()
    code = o.code()
    wide = " ".join(chr(ord(c) + 0xFEE0) for c in code)  # １ ２ ３ …
    await o.send(wide)
    assert o.step == "id.confirm"


async def test_a_wrong_code_says_how_many_tries_are_left_then_five_end_it():
    o = await typed_phone()
    good = o.code()
    for left in range(CODE_TRIES - 1, 0, -1):
        await o.send(wrong(good))
        assert f"还可以再试{left}次" in o.text and o.step == "id.sms_code"
    await o.send(wrong(good))
    assert "已尝试5次仍未核对上" in o.text and o.step == "id.sms_renew"
    assert "重新发送验证码" in o.labels
    await o.send(good)  # the right code, too late: that code is spent
    assert "已失效" in o.text and o.step == "id.sms_renew"
    assert "phone_verified" not in o.state["profile"]


async def test_an_expired_code_offers_a_new_one():
    o = await typed_phone()
    o.clock.advance(minutes=5)
    await o.send(o.code())
    assert "已失效" in o.text and "5分钟内有效" in o.text and o.step == "id.sms_renew"
    await o.press("重新发送验证码")
    assert len(o.sms.sent) == 2 and "请在5分钟内（10:10前）输入" in o.text
    await o.send(o.code())
    assert o.step == "id.confirm"


async def test_a_new_code_within_a_minute_is_refused_with_the_time_it_can_go():
    o = await typed_phone()
    first = o.code()
    o.clock.advance(seconds=30)
    await o.press("重新发送验证码")
    assert "10:01后可以重新发送" in o.text and len(o.sms.sent) == 1
    assert o.step == "id.sms_code"  # the code already sent still counts
    o.clock.advance(seconds=30)
    await o.press("重新发送验证码")
    assert len(o.sms.sent) == 2
    if o.code() != first:  # one in a million they are the same
        await o.send(first)  # only the newest code counts
        assert "没有核对上" in o.text
    await o.send(o.code())
    assert o.step == "id.confirm"


async def test_one_code_a_minute_per_number_whichever_account_asks():
    ports = memory_ports()
    a = await typed_phone(ports=ports, account_id=1)
    b = WeChatOwner(ports=ports, account_id=2, clock=a.clock)
    await b.send("/start")
    await b.send(PHONE)
    assert "10:01后可以重新发送" in b.text and b.step == "id.sms_renew"
    await b.send(a.code())  # someone else's code proves nothing here
    assert "已失效" in b.text and "phone_verified" not in b.state["profile"]


async def test_text_that_is_no_code_is_answered_and_nothing_is_lost():
    o = await typed_phone()
    await o.send("还没收到")
    assert "没有识别出验证码" in o.text and o.step == "id.sms_code"
    await o.send("12345")
    assert "没有识别出验证码" in o.text
    await o.send(o.code())  # the code sent before still works
    assert o.step == "id.confirm"


async def test_another_number_typed_at_the_code_step_gets_its_own_code():
    o = await typed_phone()
    await o.send("139 1234 5678")
    assert o.sms.sent[-1][0] == "+8613912345678" and "尾号5678" in o.text
    await o.send(o.code("13912345678"))
    assert "验证成功" in o.text
    assert o.step == "id.building"  # not in the registry: step by step, phone proven


async def test_change_number_button_goes_back_to_the_number():
    o = await typed_phone()
    await o.press("换一个手机号")
    assert o.step == "id.sms_phone"


async def test_several_units_under_a_proven_phone_are_offered():
    o = await verified("13800000501")
    assert o.step == "id.pick"
    await o.press("1202")
    await o.press("是")
    assert o.state["profile"]["unit"]["room"] == "1202"


async def test_a_proven_phone_the_registry_lacks_goes_step_by_step_and_stays_proven():
    o = await verified("13999999999")
    assert "没有查到这个号码" in o.text and o.step == "id.building"
    await o.press("3栋")
    await o.press("1单元")
    await o.press("3B室")
    await o.press("是")
    await o.press("租户")
    await o.send("李")
    await o.press("李先生")
    p = o.state["profile"]
    assert o.step == "menu.main"  # the proven phone is not asked again
    assert p["phone"] == "13999999999" and p["phone_verified"] and not p["identity_verified"]


# --- going on unproven ---------------------------------------------------------------------------
async def consult(o: Owner, question: str = "停车位怎么办理？"):
    await o.press("咨询")
    await o.send(question)
    return o.ports.tickets.rows[-1]


async def skipped(typed: str | None = None, **kw) -> WeChatOwner:
    o = WeChatOwner(**kw)
    await o.send("/start")
    if typed:
        await o.send(typed)
    await o.press("先报事，稍后验证")
    assert "不影响您报事" in o.text and "身份待核实" in o.text
    await o.press("3栋")
    await o.press("1单元")
    await o.press("3A室")
    await o.press("是")
    await o.press("我是业主本人")
    await o.send("王")
    await o.press("王女士")
    return o


async def test_skipping_lets_the_owner_report_and_the_ticket_is_marked_unproven():
    o = await skipped()
    assert o.step == "id.phone"  # a number to reach them, typed, no contact button
    assert "直接输入号码" in o.text and not any(r.request_contact for r in o.last.replies)
    await o.send(PHONE)
    p = o.state["profile"]
    assert o.step == "menu.main" and p["phone"] == PHONE and not p["phone_verified"]
    draft, view = await consult(o)
    assert draft.reporter_verified is False and view.reporter_verified is False
    assert o.sms.proven == {}


async def test_a_number_typed_before_skipping_is_kept_as_the_contact_number():
    o = await skipped(typed=PHONE)
    assert o.step == "menu.main"  # not asked again
    assert o.state["profile"]["phone"] == PHONE and not o.state["profile"]["phone_verified"]


async def test_without_sms_configured_the_owner_goes_on_unproven():
    ports = memory_ports()
    ports.verification.sms = False
    o = WeChatOwner(ports=ports)
    await o.send("/start")
    assert "短信验证暂时无法使用" in o.text and o.step == "id.building"
    assert ports.verification.sent == []


async def test_a_telegram_contact_proves_the_phone_and_reports_are_verified():
    o = await identified_owner()
    assert o.state["profile"]["phone_verified"] is True
    assert o.ports.verification.proven == {1: PHONE}
    draft, _ = await consult(o)
    assert draft.reporter_verified is True


async def test_an_emergency_before_identifying_is_marked_then_proven():
    o = WeChatOwner()
    await o.send("/start")
    await o.send("电梯里有人被困住了")
    draft, view = o.ports.tickets.rows[0]
    assert draft.emergency and draft.reporter_verified is False
    assert o.step == "id.sms_phone"
    await o.send(PHONE)
    await o.send(o.code())
    await o.press("是")
    assert draft.reporter_verified is True and view.reporter_verified is True


# --- 我的工单 across channels ---------------------------------------------------------------------
async def test_unproven_wechat_sees_only_its_own_tickets_and_can_prove_the_phone_there():
    ports = memory_ports()
    tg = await identified_owner(ports=ports, account_id=1)
    await consult(tg, "快递柜在哪里")
    wx = await skipped(ports=ports, account_id=2, clock=tg.clock)
    await wx.send(PHONE)
    await consult(wx, "停车位怎么办理？")
    await wx.press("我的工单")
    # the unit typed as 王女士's own proves nothing: her Telegram ticket is not shown
    assert "您共有1张工单" in wx.text and "ZX-20261123-0002" in wx.text
    assert "ZX-20261123-0001" not in wx.text
    assert "只显示从这个微信提交的工单" in wx.text
    await wx.press("验证手机号")
    assert wx.step == "id.sms_phone" and "其他渠道" in wx.text
    await wx.send(PHONE)
    await wx.send(wx.code())
    await wx.press("是")
    await wx.press("我的工单")
    assert "您共有2张工单" in wx.text
    assert "ZX-20261123-0001" in wx.text and "ZX-20261123-0002" in wx.text
    assert "验证手机号" not in wx.labels
    # and from Telegram, the WeChat ticket is hers too
    await tg.send("/menu")
    await tg.press("我的工单")
    assert "您共有2张工单" in tg.text


async def test_a_person_outside_the_registry_is_linked_by_the_proven_phone():
    ports = memory_ports()
    tg = Owner(ports=ports, account_id=1)
    await tg.send("/start")
    await tg.contact("13999999999")
    for step in ("3栋", "1单元", "3B室", "是", "租户"):
        await tg.press(step)
    await tg.send("李")
    await tg.press("李先生")
    await consult(tg, "快递柜在哪里")
    wx = await verified("13999999999", ports=ports, account_id=2, clock=tg.clock)
    for step in ("3栋", "1单元", "3B室", "是", "租户"):
        await wx.press(step)
    await wx.send("李")
    await wx.press("李先生")
    await consult(wx, "停车位怎么办理？")
    await wx.press("我的工单")
    assert "您共有2张工单" in wx.text
    await wx.press("ZX-20261123-0001")  # the Telegram ticket opens from WeChat
    assert "快递柜" in wx.text
    # a third account that only typed the number sees neither
    other = await skipped(typed="13999999999", ports=ports, account_id=3, clock=tg.clock)
    await other.press("我的工单")
    assert "您目前还没有工单" in other.text


async def test_proving_later_without_a_registry_match_keeps_the_profile():
    o = await skipped(typed="13999999999")
    await consult(o)
    await o.press("我的工单")
    await o.press("验证手机号")
    await o.send("13999999999")
    await o.send(o.code("13999999999"))
    assert "登记信息保持不变" in o.text and o.step == "mine.list"
    assert o.state["profile"]["salutation"] == "王女士"
    assert o.state["profile"]["phone_verified"] is True


async def test_not_now_from_my_tickets_goes_back_there():
    o = await skipped(typed=PHONE)
    await o.press("我的工单")
    await o.press("验证手机号")
    assert o.labels == ["暂不验证"]
    await o.press("暂不验证")
    assert o.step == "mine.list"


async def test_identifying_again_may_use_the_phone_proven_before():
    o = await verified()
    await o.press("是")
    await o.press("更换房屋")
    assert o.step == "id.sms_phone" and "使用已验证的尾号0301" in o.labels
    await o.press("使用已验证的尾号0301")
    assert o.step == "id.confirm" and len(o.sms.sent) == 1  # no second SMS
