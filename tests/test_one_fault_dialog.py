"""One fault, one ticket (issue 12) in the owner's dialog: a public-area repair that an open
ticket covers (same building and spot, same category, within the policy's hours) is not filed
again; the owner is told its number right after the category, before any description, and
follows it. Everything that does not match is filed as before."""

from __future__ import annotations

from dialogs.clock import FakeClock
from dialogs.events import TicketChanged

from .dialog_driver import MONDAY_10, Owner, identified_owner
from .memory_ports import memory_ports

WANG, CHEN, ZHAO = "13800000301", "13800000302", "13800000303"
FIRST = "BX-20261123-0001"


async def owners(*phones: str):
    """Owners of building 3, each on an account of their own, sharing one world and clock."""
    ports, clock = memory_ports(), FakeClock(MONDAY_10)
    return [
        await identified_owner(phone, ports=ports, clock=clock, account_id=i)
        for i, phone in enumerate(phones, 1)
    ]


async def public(o: Owner, floor="5", spot="楼道", category="照明", building="3栋") -> None:
    await o.press("报修")
    await o.press("公共区域")
    await o.press(building)
    await o.send(floor)
    await o.press(spot)
    await o.press(category)


async def file_it(o: Owner, words="楼道灯不亮，晚上很黑") -> None:
    await o.send(words)
    await o.press("没有照片")
    await o.press("一般")
    await o.press("确认")


async def reported(o: Owner, **where) -> None:
    await public(o, **where)
    assert o.step == "repair.description", o.text
    await file_it(o)
    assert o.step == "menu.main"


async def test_a_second_owner_joins_the_open_ticket_without_describing_it_again():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    tickets = wang.ports.tickets
    await public(chen, floor="6")
    assert chen.step == "repair.same_fault"
    said = chen.text
    assert "陈女士，这个问题已有业主报修（工单号" in said and FIRST in said
    assert "3栋5楼楼道照明问题" in said and "维修人员正在处理" in said
    assert "进展会同步通知您" in said
    assert "描述" not in said  # no words asked for that would be thrown away
    assert chen.labels == ["好的", "不是同一个问题，继续报修"]
    # followed at once, and the agents' card is redrawn with one more reporter
    assert tickets.subscribers[1][2][1] is True  # account 2 follows ticket 1
    assert tickets.reporters(1) == 2
    assert TicketChanged(1) in chen.last.effects
    await chen.press("好的")
    assert "有新进展时会第一时间通知您" in chen.text and chen.step == "menu.main"
    assert len(tickets.rows) == 1  # one fault, one ticket


async def test_three_owners_make_one_ticket_with_three_reporters():
    wang, chen, zhao = await owners(WANG, CHEN, ZHAO)
    await reported(wang)
    for other, floor in ((chen, "2"), (zhao, "9")):
        await public(other, floor=floor)
        await other.press("好的")
    tickets = wang.ports.tickets
    assert len(tickets.rows) == 1 and tickets.reporters(1) == 3
    events = [e.action for e in tickets.row_view(1).events]
    assert events == ["created", "subscribed", "subscribed"]


async def test_the_joined_ticket_is_in_my_tickets_without_the_reporters_home():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    await public(chen)
    await chen.press("好的")
    await chen.press("我的工单")
    assert FIRST in chen.text
    await chen.press(FIRST)
    assert "3栋5楼楼道" in chen.text
    assert "3A" not in chen.text  # 王女士's unit is hers, not the other owners'
    await wang.press("我的工单")
    await wang.press(FIRST)
    assert "3A" in wang.text


async def test_not_the_same_fault_undoes_the_follow_and_files_its_own_ticket():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    tickets = wang.ports.tickets
    await public(chen)
    await chen.press("不是同一个问题")
    assert "好的，我为您单独登记这个问题" in chen.text
    assert chen.step == "repair.description"
    assert tickets.reporters(1) == 1 and TicketChanged(1) in chen.last.effects
    await file_it(chen, "楼道灯一闪一闪的")
    assert len(tickets.rows) == 2 and "BX-20261123-0002" in chen.text
    assert [e.action for e in tickets.row_view(1).events][-1] == "unsubscribed"


async def test_what_does_not_match_is_filed_as_before():
    """Another spot, another category, another building: each is its own fault."""
    wang, _ = await owners(WANG, CHEN)
    await reported(wang)
    for where in ({"spot": "电梯厅"}, {"category": "电梯"}, {"building": "5栋"}):
        # a fresh conversation of the same owner each time
        chen = await identified_owner(CHEN, ports=wang.ports, clock=wang.clock, account_id=2)
        await public(chen, **where)
        assert chen.step == "repair.description", (where, chen.text)
    assert wang.ports.tickets.reporters(1) == 1


async def test_a_ticket_older_than_the_window_is_not_matched():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    hours = chen.engine.policy.same_fault_hours
    assert hours == 12  # policy.toml [desk] same_fault_hours
    chen.clock.advance(hours=hours, minutes=1)
    await public(chen)
    assert chen.step == "repair.description"
    assert wang.ports.tickets.reporters(1) == 1


async def test_within_the_window_it_is_matched():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    chen.clock.advance(hours=11, minutes=59)
    await public(chen)
    assert chen.step == "repair.same_fault"


async def test_a_closed_ticket_is_not_joined():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    wang.ports.tickets.row_view(1).status = "done"
    await public(chen)
    assert chen.step == "repair.description"
    assert wang.ports.tickets.reporters(1) == 1


async def test_the_same_owner_reporting_twice_is_told_and_not_counted_twice():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    tickets = wang.ports.tickets
    # the reporter again: told it is theirs already
    await public(wang, floor="6")
    assert "这个问题您已经报修过（工单号" in wang.text and FIRST in wang.text
    assert tickets.reporters(1) == 1 and TicketChanged(1) not in wang.last.effects
    await wang.press("好的")
    # a subscriber again
    await public(chen)
    assert "已有业主报修" in chen.text
    await chen.press("好的")
    await public(chen)
    assert "这个问题您已经报修过" in chen.text
    assert TicketChanged(1) not in chen.last.effects
    await chen.press("好的")
    assert tickets.reporters(1) == 2
    assert [e.action for e in tickets.row_view(1).events].count("subscribed") == 1


async def test_the_same_registered_owner_on_another_account_is_not_counted_twice():
    ports, clock = memory_ports(), FakeClock(MONDAY_10)
    telegram = await identified_owner(WANG, ports=ports, clock=clock, account_id=1)
    await reported(telegram)
    other = await identified_owner(WANG, ports=ports, clock=clock, account_id=7)
    await public(other)
    assert "您已经报修过" in other.text
    assert ports.tickets.reporters(1) == 1


async def test_asking_again_shows_the_same_ticket_and_joins_once():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    await public(chen)
    await chen.send("怎么还没修")  # words where a button is expected: asked again
    assert chen.step == "repair.same_fault"
    assert "已有业主报修" in chen.text and "您已经报修过" not in chen.text
    assert wang.ports.tickets.reporters(1) == 2


async def test_a_shared_ticket_cannot_be_withdrawn_by_its_reporter_alone():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    await public(chen)
    await chen.press("好的")
    assert not await wang.ports.tickets.withdraw(1, wang.clock.now())
    assert wang.ports.tickets.row_view(1).status == "new"


async def test_editing_the_place_at_the_readback_checks_again():
    wang, chen = await owners(WANG, CHEN)
    await reported(wang)
    await public(chen, spot="电梯厅")
    await file_it_until_readback(chen)
    await chen.press("修改")
    await chen.press("位置")
    await chen.press("公共区域")
    await chen.press("3栋")
    await chen.send("5")
    await chen.press("楼道")
    assert chen.step == "repair.same_fault", chen.text


async def file_it_until_readback(o: Owner) -> None:
    await o.send("楼道灯不亮")
    await o.press("没有照片")
    await o.press("一般")
    assert o.step == "repair.readback"
