from datetime import UTC

from dialogs.events import TicketFiled

from .dialog_driver import identified_owner


def plain(text: str) -> str:
    return text.replace("<b>", "").replace("</b>", "")


async def walk_to_readback(o, description="厨房水管接口一直在漏水"):
    await o.press("报修")
    await o.press("厨房")
    await o.press("水管/漏水")
    await o.send(description)
    await o.press("没有照片")
    await o.press("紧急")
    await o.press("今天下午")
    assert o.step == "repair.readback"


async def test_readback_then_confirm_creates_exactly_one_ticket():
    o = await identified_owner()
    await walk_to_readback(o)
    t = plain(o.text)
    # read back as speech, with the date of the visit (Monday 23 November, afternoon)
    assert t.startswith("王女士，") and "您是说3栋1单元3A室厨房水管接口一直在漏水" in t
    assert "希望11月23日（周一）下午上门，对吗？" in t
    assert "<b>3栋1单元3A室</b>" in o.text  # the unit in bold
    assert o.ports.tickets.rows == []  # nothing before 确认
    confirm_token = dict(o.buttons)["✅ 确认"]
    await o.press("确认")
    assert len(o.ports.tickets.rows) == 1
    draft, view = o.ports.tickets.rows[0]
    assert view.number == "BX-20261123-0001"
    assert draft.department == "工程部" and draft.urgent
    assert "已登记，工单号" in plain(o.text) and "BX-20261123-0001" in o.text
    assert "进户水阀" in o.text  # preparation advice for a leak
    assert o.last.durable
    # the agents' card is the desk's to draw: the dialog says only which ticket was filed
    assert [e for e in o.last.effects if isinstance(e, TicketFiled)] == [TicketFiled(view.id)]
    # a double tap on 确认: stale, nothing more
    res = await o.token(confirm_token)
    assert res.alert == "alert_stale_button" and not res.replies
    assert len(o.ports.tickets.rows) == 1


async def test_cancel_at_readback_creates_nothing():
    o = await identified_owner()
    await walk_to_readback(o)
    await o.press("取消")
    assert o.ports.tickets.rows == []
    assert o.step == "menu.main"


async def test_modify_one_field_returns_to_readback_keeping_the_rest():
    o = await identified_owner()
    await walk_to_readback(o)
    await o.press("修改")
    await o.press("上门时间")
    assert o.step == "repair.slot"
    await o.press("明天上午")
    assert o.step == "repair.readback"
    assert "11月24日（周二）上午" in o.text and "厨房水管接口一直在漏水" in o.text


async def test_urgency_is_suggested_from_words():
    o = await identified_owner()
    await o.press("报修")
    await o.press("卧室")
    await o.press("门窗")
    await o.send("窗户把手松了")
    await o.press("没有照片")
    assert "建议按" not in o.text
    assert o.labels[0] == "一般"


async def test_gas_is_an_emergency_advice_and_ticket_at_once_one_short_question_after():
    o = await identified_owner()
    await o.press("报修")
    await o.press("紧急")
    await o.press("燃气")
    assert "请您先离开房间" in o.text and "不要开关任何电器" in o.text
    assert len(o.ports.tickets.rows) == 1
    assert o.ports.tickets.rows[0][0].urgent and o.ports.tickets.rows[0][0].emergency
    # one short question, no photos, no long description
    assert o.step == "emergency.confirm"
    assert "照片" not in o.text and "描述" not in o.text
    await o.press("是的")
    assert len(o.ports.tickets.rows) == 1  # completed, not duplicated
    assert "已经补充到" in o.text and o.step == "menu.main"


async def test_trapped_in_elevator_words_raise_the_emergency():
    o = await identified_owner()
    await o.press("报修")
    await o.press("公共区域")
    await o.press("3栋")
    await o.send("5")
    await o.press("电梯厅")
    await o.press("电梯")
    await o.send("有人被困在电梯里了")
    assert "保持冷静" in o.text and "不要强行扒门" in o.text
    assert len(o.ports.tickets.rows) == 1


async def test_photo_only_description_and_album():
    o = await identified_owner()
    await o.press("报修")
    await o.press("卫生间")
    await o.press("水管/漏水")
    await o.photo(album="A1", file_id="p1")
    assert o.step == "repair.photos"
    res = await o.photo(album="A1", file_id="p2")
    assert res.replies == []  # the rest of the album is attached silently
    await o.press("继续")
    await o.press("一般")
    await o.press("明天上午")
    assert "附了2张照片" in o.text
    await o.press("确认")
    assert len(o.ports.tickets.rows[0][0].attachments) == 2


async def test_text_where_button_expected_keeps_step_and_data():
    o = await identified_owner()
    await o.press("报修")
    await o.press("厨房")
    await o.send("随便说点什么")
    assert o.step == "repair.category"
    assert "点击下方的按钮" in o.text
    assert o.state["d"]["area"] == "厨房"


async def test_bad_inputs_are_answered_politely_and_nothing_is_lost():
    o = await identified_owner()
    await o.press("报修")
    await o.press("厨房")
    await o.press("水管/漏水")
    await o.other("sticker")
    assert o.step == "repair.description" and "表情" in o.text
    await o.other("voice", file_id="v1")
    assert o.step == "repair.description" and "语音已收到" in o.text
    await o.send("/foo")
    assert "无法识别这个指令" in o.text and o.step == "repair.description"
    await o.send("<b>漏水</b> & 😀")
    assert o.state["d"]["description"] == "<b>漏水</b> & 😀"
    await o.press("没有照片")
    await o.press("一般")
    await o.press("明天上午")
    assert "&lt;b&gt;漏水&lt;/b&gt; &amp; 😀" in o.text  # escaped once
    await o.press("确认")
    kinds = [a["kind"] for a in o.ports.tickets.rows[0][0].attachments]
    assert kinds == ["voice"]  # the voice message was kept for the agents


async def test_forged_button_changes_nothing():
    o = await identified_owner()
    before = dict(o.state)
    res = await o.token("999:0")
    assert res.alert and not res.replies
    res = await o.token("garbage")
    assert res.alert and o.state["step"] == before["step"]


async def test_menu_mid_dialog_keeps_draft_and_resumes():
    o = await identified_owner()
    await o.press("报修")
    await o.press("厨房")
    await o.send("/menu")
    assert o.step == "menu.main" and "保留" in o.text
    await o.press("继续刚才的报修")
    assert o.step == "repair.category" and o.state["d"]["area"] == "厨房"


async def test_cancel_leaves_politely():
    o = await identified_owner()
    await o.press("报修")
    await o.send("/cancel")
    assert "已为您取消" in o.text and o.step == "menu.main"


async def test_ordinary_repair_promise_waits_for_working_hours():
    from datetime import datetime

    from dialogs.clock import FakeClock

    # 22:00 Shanghai: ordinary work is promised from 08:00 the next morning
    o = await identified_owner(clock=FakeClock(datetime(2026, 11, 23, 14, 0, tzinfo=UTC)))
    await o.press("报修")
    await o.press("卧室")
    await o.press("门窗")
    await o.send("窗户关不严")
    await o.press("没有照片")
    await o.press("一般")
    await o.press("明天上午")
    await o.press("确认")
    draft = o.ports.tickets.rows[0][0]
    local = draft.promised_contact_by.astimezone(o.engine.session({}, 1, o.ports).tz)
    assert (local.hour, local.minute) == (8, 30)
    assert "明天08:30前" in o.text


async def test_a_3000_character_description_is_kept_whole_and_clipped_in_the_readback():
    o = await identified_owner()
    await o.press("报修")
    await o.press("厨房")
    await o.press("水管/漏水")
    long = "漏" * 3000
    await o.send(long)
    assert o.state["d"]["description"] == long
    await o.press("没有照片")
    await o.press("一般")
    await o.press("明天上午")
    assert "……" in o.text and len(o.text) < 1000
    await o.press("确认")
    assert o.ports.tickets.rows[0][0].description == long


async def test_too_long_text_at_a_short_step_is_answered_and_the_step_kept():
    from .dialog_driver import Owner

    o = Owner()
    await o.send("/start")
    await o.press("手动填写房号")
    await o.press("3栋")
    await o.press("1单元")
    await o.send("3" * 300)
    assert "有点长" in o.text and o.step == "id.room"
    assert o.state["d"]["unit"] == "1"
