"""The craft of the service (issue 8): emergencies caught anywhere, promises that agree with the
owner's chosen time and with each other, conversations an owner would not trip over."""

from __future__ import annotations

from datetime import UTC, datetime

from dialogs.clock import FakeClock
from dialogs.events import Inbound, RelayToAgents, SurveyAnswered, SurveyStart
from dialogs.ports import SurveyView

from .dialog_driver import Owner, identified_owner

# Tuesday 2026-11-24 10:00 in Shanghai
TUESDAY_10 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def plain(text: str) -> str:
    return text.replace("<b>", "").replace("</b>", "")


def only_ticket(o):
    assert len(o.ports.tickets.rows) == 1, o.ports.tickets.rows
    return o.ports.tickets.rows[0][0]


# --- 1. Safety first, wherever the owner is ------------------------------------------------------


async def test_gas_smell_typed_at_the_menu_gets_advice_and_an_urgent_ticket_at_once():
    o = await identified_owner()
    await o.send("厨房里闻到很重的煤气味")
    t = plain(o.text)
    assert "请点击下方的按钮" not in t
    assert "请您先离开房间" in t and "96777" in t and "400-800-1234" in t
    draft = only_ticket(o)
    assert draft.urgent and draft.emergency and draft.category == "gas"
    assert draft.description == "厨房里闻到很重的煤气味" and draft.location == "厨房"
    # nobody has taken it yet: say what happened and when someone calls, never 正在处理
    assert "已通知值班人员" in t and "今天10:05前给您打电话" in t and "正在处理" not in t
    # at most one short question, and only after 请先离开房间; no photos, no long description
    assert t.index("请您先离开房间") < t.index("吗？")
    assert "照片" not in t and "描述" not in t
    assert o.step == "emergency.confirm"


async def _promise(o):
    d = only_ticket(o)
    return d.category, d.department, d.promised_contact_by, d.promised_arrive_by


async def test_the_same_gas_smell_takes_the_same_path_however_it_is_reported():
    by_button = await identified_owner()
    await by_button.press("报修")
    await by_button.press("紧急")
    await by_button.press("燃气")
    described = await identified_owner()
    await described.press("报修")
    await described.press("厨房")
    await described.press("其他")
    await described.send("厨房里燃气味很重")
    at_menu = await identified_owner()
    await at_menu.send("厨房里燃气味很重")
    first = await _promise(by_button)
    assert first[0] == "gas"
    assert await _promise(described) == first
    assert await _promise(at_menu) == first
    assert described.step == at_menu.step == by_button.step == "emergency.confirm"


async def test_a_gas_bill_question_is_not_an_emergency():
    o = await identified_owner()
    await o.press("咨询")
    await o.send("燃气费在哪里交？")
    # a question, filed as one (or not at all), never an emergency ticket
    assert all(not draft.emergency and draft.kind == "consult" for draft, _ in o.ports.tickets.rows)
    assert "离开房间" not in o.text


async def test_emergencies_are_caught_in_a_complaint_and_the_complaint_is_kept():
    o = await identified_owner()
    await o.press("投诉")
    await o.send("楼道里冒烟了，快来人")
    d = only_ticket(o)
    assert d.emergency and d.category == "fire" and "119" in o.text
    assert "楼道" in d.location
    await o.press("是的")
    assert "继续刚才的投诉" in " ".join(o.labels)


async def test_emergencies_are_caught_in_a_consultation_and_in_supplement():
    o = await identified_owner()
    await o.press("咨询")
    await o.send("家里水管爆了，水漫到客厅了")
    d = only_ticket(o)
    assert d.emergency and d.category == "water" and "进户总水阀" in o.text
    # 补充 on an existing ticket
    o2 = await identified_owner()
    await o2.press("报修")
    await o2.press("卧室")
    await o2.press("门窗")
    await o2.send("窗户关不严")
    await o2.press("没有照片")
    await o2.press("一般")
    await o2.press("明天上午")
    await o2.press("确认")
    await o2.press("我的工单")
    await o2.press("BX-")
    await o2.press("补充")
    await o2.send("插座冒火花了，还有焦糊味")
    assert len(o2.ports.tickets.rows) == 2
    assert o2.ports.tickets.rows[1][0].category == "power"
    assert "电闸" in o2.text


async def test_an_emergency_told_to_the_human_queue_still_reaches_the_person():
    o = await identified_owner()
    await o.press("人工客服")
    assert o.step == "human.waiting"
    res = await o.send("电梯里有人被困住了")
    assert "保持冷静" in o.text and only_ticket(o).emergency
    # the words still go to the person
    assert any(isinstance(e, RelayToAgents) for e in res.effects)
    assert o.step == "human.waiting"


async def test_an_emergency_typed_as_a_survey_comment_is_caught():
    o = await identified_owner()
    o.ports.surveys.add(
        SurveyView(9, 1, o.account_id, "survey", "open", "comment", "BX-1", "小林", True)
    )
    await o._go(Inbound("survey_start", detail=SurveyStart(9)))
    assert o.step == "survey.comment"
    res = await o.send("刚修好的插座又冒烟了，有焦味")
    assert only_ticket(o).emergency
    # the words were the survey's comment too: kept there as well as on the ticket
    comments = [e for e in res.effects if isinstance(e, SurveyAnswered)]
    assert comments and comments[0].survey_id == 9 and "冒烟" in comments[0].comment


async def test_an_emergency_before_identification_gets_a_ticket_then_who_and_where():
    o = Owner()
    await o.send("/start")
    await o.send("家里燃气味很大")
    assert "请您先离开房间" in o.text
    d = only_ticket(o)
    assert d.emergency and not d.unit_label
    assert o.step == "id.contact"
    await o.contact("13800000301")
    await o.press("是")
    assert only_ticket(o).unit_label.endswith("3A室")
    assert "补充到" in o.text


async def test_trapped_in_a_lift_asks_which_lift_and_how_many_people():
    o = await identified_owner()
    await o.send("有人被困在电梯里了")
    assert o.step == "emergency.lift" and "哪一栋" in o.text
    assert o.labels[0] == "3栋"  # the owner's own building first
    await o.press("5栋")
    assert o.step == "emergency.people"
    await o.press("2人")
    d = only_ticket(o)
    assert d.location.startswith("5栋") and d.details["people"] == "2"
    assert "被困人数：2" in o.text


async def test_trapped_with_the_building_named_asks_only_how_many():
    o = await identified_owner()
    await o.send("5号楼2号梯有人被困")
    assert o.step == "emergency.people"
    await o.press("不清楚")
    assert only_ticket(o).location.startswith("5栋2号梯")


async def test_cancel_after_an_emergency_ticket_keeps_what_was_said_and_says_it_stands():
    o = await identified_owner()
    await o.press("报修")
    await o.press("卫生间")
    await o.press("水管/漏水")
    await o.send("水管爆了，卫生间已经淹了")
    assert only_ticket(o).emergency
    await o.send("/cancel")
    t = plain(o.text)
    assert "不会提交" not in t and "仍然有效" in t and "BX-" in t
    d = only_ticket(o)
    assert "淹了" in d.description and d.location == "卫生间"
    assert o.step == "menu.main"


# --- 2. Every promise agrees with every other ---------------------------------------------------


async def test_an_ordinary_repair_for_tomorrow_morning_is_promised_for_tomorrow_morning():
    o = await identified_owner(clock=FakeClock(TUESDAY_10))
    await o.press("报修")
    await o.press("卫生间")
    await o.press("水管/漏水")
    await o.send("马桶下方一直渗水")
    await o.press("没有照片")
    await o.press("一般")
    await o.press("明天上午")
    t = plain(o.text)
    assert (
        "王女士，我跟您确认一下：您是说3栋1单元3A室卫生间马桶下方一直渗水，"
        "希望11月25日（周三）上午上门，对吗？"
    ) in t
    await o.press("确认")
    d = only_ticket(o)
    local = d.promised_arrive_by.astimezone(o.engine.session({}, 1, o.ports).tz)
    assert (local.day, local.hour) == (25, 12)
    t = plain(o.text)
    assert "11月25日（周三）上午上门" in t and "今天12:00前到场" not in t


async def test_a_visit_time_in_the_owners_words_is_read_back_with_its_date():
    o = await identified_owner(clock=FakeClock(TUESDAY_10))
    await o.press("报修")
    await o.press("客厅")
    await o.press("门窗")
    await o.send("阳台推拉门卡住了")
    await o.press("没有照片")
    await o.press("一般")
    await o.send("周六上午10点")
    assert "希望11月28日（周六）上午10点上门" in o.text
    await o.press("确认")
    local = only_ticket(o).promised_arrive_by.astimezone(o.engine.session({}, 1, o.ports).tz)
    assert (local.day, local.hour) == (28, 11)


async def test_an_urgent_repair_earlier_than_the_chosen_slot_says_why():
    o = await identified_owner(clock=FakeClock(TUESDAY_10))
    await o.press("报修")
    await o.press("厨房")
    await o.press("水管/漏水")
    await o.send("水管接口一直漏水")
    await o.press("没有照片")
    await o.press("紧急")
    await o.press("明天下午")
    await o.press("确认")
    t = plain(o.text)
    assert "因为情况紧急" in t and "比您希望的11月25日（周三）下午更早" in t


async def test_the_person_named_to_the_owner_is_a_real_one_from_the_roster():
    from dialogs.policy import Policy

    assert not hasattr(Policy.load(), "duty_agent")
    o = await identified_owner()
    o.ports.handoffs.on_duty = "小林"
    assert await o.ports.handoffs.duty_agent() == "小林"


# --- 3. Conversations an owner would not trip over -----------------------------------------------


async def test_urgency_buttons_keep_their_order_and_the_suggestion_is_marked():
    o = await identified_owner()
    await o.press("报修")
    await o.press("厨房")
    await o.press("水管/漏水")
    await o.send("水管接口漏水")
    await o.press("没有照片")
    assert o.labels == ["一般", "紧急（建议）"] and "建议按" in plain(o.text)
    o2 = await identified_owner()
    await o2.press("报修")
    await o2.press("卧室")
    await o2.press("门窗")
    await o2.send("窗户把手松了")
    await o2.press("没有照片")
    assert o2.labels == ["一般", "紧急"]


async def test_the_description_example_fits_the_category():
    o = await identified_owner()
    await o.press("报修")
    await o.press("公共区域")
    await o.press("3栋")
    await o.send("5")
    await o.press("电梯厅")
    await o.press("电梯")
    assert "水管" not in o.text and "电梯" in o.text


async def test_a_public_area_repair_names_the_public_place_only():
    o = await identified_owner()
    await o.press("报修")
    await o.press("公共区域")
    await o.press("5栋")
    await o.send("12")
    await o.press("楼道")
    await o.press("照明")
    await o.send("灯不亮")
    await o.press("没有照片")
    await o.press("一般")
    assert "5栋12楼楼道" in plain(o.text) and "3A室" not in o.text
    await o.press("确认")
    t = plain(o.text)
    assert "5栋12楼楼道照明问题已登记" in t and "3A室" not in t
    assert "上门上门" not in t


async def test_in_the_human_queue_menu_works_every_message_is_acknowledged_and_leaving_is_honest():
    o = await identified_owner()
    await o.press("人工客服")
    await o.send("我想问一下停车的事")
    assert "已收到" in o.text and "10:03前" in o.text
    await o.send("还有装修的事")
    assert "已收到" in o.text
    await o.send("/menu")
    assert o.step == "menu.main"
    assert "结束人工服务" not in o.text and "取消人工客服排队" in o.text


async def test_out_of_hours_the_owner_is_asked_first_and_hears_the_cards_time():
    # Monday 22:00 in Shanghai: after hours (08:00–20:00)
    o = await identified_owner(clock=FakeClock(datetime(2026, 11, 23, 14, 0, tzinfo=UTC)))
    await o.press("人工客服")
    assert o.ports.tickets.rows == [] and o.step == "handoff.after_hours"
    assert "请问您需要" in o.text
    await o.send("想开一张物业费发票")
    d = only_ticket(o)
    assert d.description.startswith("想开一张物业费发票")
    local = d.promised_contact_by.astimezone(o.engine.session({}, 1, o.ports).tz)
    assert f"明天{local:%H:%M}前回复您" in o.text


async def test_start_in_the_middle_of_a_dialog_keeps_the_draft():
    o = await identified_owner()
    await o.press("报修")
    await o.press("厨房")
    await o.send("/start")
    assert "继续刚才的报修" in " ".join(o.labels)
    await o.press("继续刚才的报修")
    assert o.step == "repair.category" and o.state["d"]["area"] == "厨房"


async def test_a_button_label_typed_without_its_emoji_presses_it():
    o = await identified_owner()
    await o.send("报修")
    assert o.step == "repair.where"
