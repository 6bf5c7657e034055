from datetime import UTC, datetime

from dialogs.clock import FakeClock

from .dialog_driver import identified_owner


async def walk_complaint(o, what="楼下装修噪音太大,晚上十点还在施工"):
    await o.press("投诉")
    assert "王女士,您的心情我能理解" in o.text and "实在是抱歉" in o.text
    await o.send(what)
    assert o.step == "complaint.category"
    await o.press("服务")
    assert o.step == "complaint.where"
    await o.press("就在我家")
    await o.press("昨天")
    await o.send("希望尽快协调停止夜间施工")
    assert o.step == "complaint.restate"
    assert "很抱歉这件事让您这么不愉快" in o.text and "请问是这样吗" in o.text


async def test_six_steps_one_plan_first_then_alternatives_then_close():
    o = await identified_owner()
    await walk_complaint(o)
    await o.press("对的")
    assert o.step == "complaint.plan"
    assert "好处是" in o.text and "方案1" not in o.text  # one plan first, with its benefit
    await o.press("看看其他方案")
    assert "方案1" in o.text and "方案3" in o.text
    assert "补偿" not in o.text and "赔偿" not in o.text
    await o.press("选择方案2")
    assert "我这样为您解决" in o.text and "您看可以吗" in o.text
    assert o.ports.tickets.rows == []
    await o.press("可以")
    draft, view = o.ports.tickets.rows[0]
    assert view.number.startswith("TS-20261123-")
    assert draft.details["plan"].startswith("安排相关负责人")
    assert "值班客服小林" in o.text and "400-800-1234" in o.text
    assert "欢迎您随时联系我们" in o.text
    assert o.step == "menu.main"


async def test_angry_owner_is_calmed_first_and_offered_a_person():
    o = await identified_owner()
    await o.press("投诉")
    await o.send("你们物业太过分了!!再不处理我就打12345投诉你们")
    assert "是的,我明白" in o.text
    assert any("转人工客服" in lb for lb in o.labels)
    await o.press("转人工客服")
    assert o.ports.handoffs.requests
    assert "人工客服" in o.text
    assert "paused" in o.state  # what was said is kept


async def test_restate_modify_one_field():
    o = await identified_owner()
    await walk_complaint(o)
    await o.press("修改")
    await o.press("时间")
    await o.press("今天")
    assert o.step == "complaint.restate" and "时间:今天" in o.text


async def test_consultation_becomes_a_ticket_with_reply_time():
    o = await identified_owner()
    await o.press("咨询")
    await o.send("物业费可以线上交吗?")
    draft, view = o.ports.tickets.rows[0]
    assert view.number == "ZX-20261123-0001" and draft.kind == "consult"
    assert "今天11:00前答复您" in o.text


async def test_human_request_in_and_out_of_hours():
    o = await identified_owner()
    await o.press("人工客服")
    assert "3分钟内回复您" in o.text and o.ports.handoffs.requests
    late = await identified_owner(clock=FakeClock(datetime(2026, 11, 23, 14, 0, tzinfo=UTC)))
    await late.press("人工客服")
    assert "非工作时间" in late.text and "明天08:00" in late.text


async def test_my_tickets_detail_add_details_and_withdraw():
    o = await identified_owner()
    await o.press("咨询")
    await o.send("停车位怎么办理?")
    await o.press("我的工单")
    assert "ZX-20261123-0001" in o.text
    await o.press("ZX-20261123-0001")
    assert "工单已登记" in o.text
    await o.press("补充")
    await o.send("我想办月卡")
    assert "已为您补充" in o.text
    await o.press("补充完了")
    assert "业主补充了信息" in o.text
    await o.press("撤单")
    await o.press("确认撤单")
    assert "已为您撤销" in o.text
    assert not any("撤单" == lb for lb in o.labels)  # no longer open


async def test_my_tickets_never_shows_someone_elses():
    o = await identified_owner()
    await o.press("咨询")
    await o.send("问题一")
    other = await identified_owner(phone="13800000303")
    other.ports = o.ports
    other.account_id = 2
    await other.send("/menu")
    await other.press("我的工单")
    assert "还没有工单" in other.text
    res = await other.token("1:0")  # a forged token for ticket 1
    assert res.alert


async def test_paging_of_my_tickets():
    o = await identified_owner()
    for i in range(7):
        await o.press("咨询")
        await o.send(f"问题{i}")
    await o.press("我的工单")
    assert "第1/2页" in o.text and "ZX-20261123-0007" in o.text
    await o.press("下一页")
    assert "第2/2页" in o.text and "ZX-20261123-0001" in o.text
