"""Notices (公告) in the owner's dialog: a repair in the category of a notice in force for the
owner's building is answered with the notice first; only "是其他问题" files a ticket. A question
about it (the 咨询 path) is answered with the notice too."""

from __future__ import annotations

from datetime import timedelta

from dialogs.clock import FakeClock
from dialogs.flows.notice_check import tell_active_notice
from dialogs.state import ConversationState

from .dialog_driver import MONDAY_10, TEXTS, identified_owner

# Monday 10:00 in Shanghai (the driver's clock): a water cut from 08:00 to 14:00 is in force
FROM, UNTIL = MONDAY_10 - timedelta(hours=2), MONDAY_10 + timedelta(hours=4)


async def owner_with(*notices, phone="13800000301"):
    o = await identified_owner(phone)
    for kind, buildings, start, end in notices:
        o.ports.notices.add(kind, "", buildings, start, end, text="请您提前储水。")
    return o


async def choose_kitchen_water(o):
    await o.press("报修")
    await o.press("厨房")
    await o.press("水管/漏水")


async def test_a_repair_in_the_notices_category_is_told_the_notice_and_asked():
    o = await owner_with(("water", ["3"], FROM, UNTIL))
    await choose_kitchen_water(o)
    assert "王女士，先和您说明一下：3栋今天08:00至14:00计划停水，预计14:00恢复供水。" in o.text
    assert "请您提前储水。" in o.text and o.text.endswith("请问是其他问题吗？")
    assert o.labels == ["是其他问题，继续报修", "知道了，不用报修"]
    assert o.step == "repair.notice"
    assert o.ports.tickets.rows == []


async def test_no_repair_needed_files_nothing_and_returns_to_the_menu():
    o = await owner_with(("water", ["3"], FROM, UNTIL))
    await choose_kitchen_water(o)
    await o.press("不用报修")
    assert "感谢您的理解与配合" in o.text and "请问还有什么可以帮您？" in o.text
    assert o.step == "menu.main"
    assert o.ports.tickets.rows == []
    assert o.state["d"] == {}  # the repair under way is let go, not kept to resume


async def test_something_else_goes_on_and_only_then_files_a_ticket():
    o = await owner_with(("water", ["3"], FROM, UNTIL))
    await choose_kitchen_water(o)
    await o.press("继续报修")
    assert o.step == "repair.description"
    await o.send("水槽下面的管子接口在滴水")
    await o.press("没有照片")
    await o.press("一般")
    await o.press("明天上午")
    assert o.step == "repair.readback"
    # changing the category later does not ask about the notice a second time
    await o.press("修改")
    await o.press("问题类别")
    await o.press("水管/漏水")
    assert "请问是其他问题吗？" not in o.text
    assert o.step == "repair.readback"
    await o.press("确认")
    assert len(o.ports.tickets.rows) == 1
    assert o.ports.tickets.rows[0][0].category == "water"


async def test_a_notice_of_another_kind_is_not_told():
    o = await owner_with(("power", ["3"], FROM, UNTIL), ("lift", [], FROM, UNTIL))
    await choose_kitchen_water(o)
    assert "公告" not in o.text and "先和您说明" not in o.text
    assert o.step == "repair.description"


async def test_the_lift_notice_answers_a_lift_repair_in_every_building():
    o = await owner_with(("lift", [], FROM, UNTIL))
    await o.press("报修")
    await o.press("公共区域")
    await o.press("3栋")
    await o.press("1楼")
    await o.press("电梯厅")
    await o.press("电梯")
    assert "全小区今天08:00至14:00计划电梯停运，预计14:00电梯恢复运行。" in o.text
    assert o.step == "repair.notice"


async def test_a_notice_for_another_building_is_not_told():
    o = await owner_with(("water", ["5"], FROM, UNTIL))
    await choose_kitchen_water(o)
    assert "先和您说明" not in o.text and o.step == "repair.description"


async def test_a_public_repair_in_another_building_is_not_held_back():
    o = await owner_with(("water", ["3"], FROM, UNTIL))
    await o.press("报修")
    await o.press("公共区域")
    await o.press("5栋")
    await o.press("1楼")
    await o.press("楼道")
    await o.press("水管/漏水")
    assert "先和您说明" not in o.text and o.step == "repair.description"


async def test_an_owner_of_another_building_is_not_told():
    o = await owner_with(("water", ["3"], FROM, UNTIL), phone="13800000201")
    await choose_kitchen_water(o)
    assert "先和您说明" not in o.text and o.step == "repair.description"


async def test_an_expired_or_future_notice_is_not_told():
    earlier = (MONDAY_10 - timedelta(hours=6), MONDAY_10 - timedelta(minutes=1))
    later = (MONDAY_10 + timedelta(hours=1), MONDAY_10 + timedelta(hours=3))
    o = await owner_with(("water", ["3"], *earlier), ("water", ["3"], *later))
    await choose_kitchen_water(o)
    assert "先和您说明" not in o.text and o.step == "repair.description"


async def test_the_notice_ends_while_the_owner_waits_at_the_menu():
    clock = FakeClock(MONDAY_10)
    o = await identified_owner(clock=clock)
    o.ports.notices.add("water", "", ["3"], FROM, UNTIL)
    clock.advance(hours=5)  # 15:00: the water is back
    await choose_kitchen_water(o)
    assert "先和您说明" not in o.text and o.step == "repair.description"


# --- the 咨询 path: tell_active_notice with the owner's question ----------------------------------
async def session_of(o):
    state = ConversationState.from_dict(o.state)
    return o.engine.session(state, o.account_id, o.ports)


async def test_a_question_about_the_outage_is_answered_with_the_notice():
    o = await owner_with(("water", ["3"], FROM, UNTIL))
    s = await session_of(o)
    assert await tell_active_notice(s, text="请问今天怎么没水了？")
    said = [TEXTS.render(r.template, r.context) for r in s.replies]
    assert len(said) == 1 and "3栋今天08:00至14:00计划停水" in said[0]
    # says the notice and nothing else: no buttons, no step changed
    assert not s.replies[0].rows and s.where == "menu.main"


async def test_a_question_about_something_else_is_left_alone():
    o = await owner_with(("water", ["3"], FROM, UNTIL))
    s = await session_of(o)
    assert not await tell_active_notice(s, text="物业费怎么交？")
    assert not await tell_active_notice(s, text="电梯什么时候修好")  # no lift notice
    assert s.replies == []


async def test_no_notice_for_an_owner_not_identified_or_without_the_port():
    o = await owner_with(("water", ["3"], FROM, UNTIL))
    s = await session_of(o)
    s.state.profile = {}
    assert not await tell_active_notice(s, text="没水了")
    s = await session_of(o)
    s.ports.notices = None
    assert not await tell_active_notice(s, category="water")
