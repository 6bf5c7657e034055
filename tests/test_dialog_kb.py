"""咨询 answered from the knowledge base (issue 12): every branch of the dialog, over an in-memory
knowledge port whose ranking the test sets (tests/memory_ports.py MemKnowledge), so these tests
hold whatever the real matcher scores."""

from __future__ import annotations

from datetime import timedelta

from dialogs.knowledge import thresholds
from dialogs.ports import Where

from .dialog_driver import MONDAY_10, identified_owner
from .memory_ports import MemKnowledge

CONFIDENT, MIDDLING = thresholds()
SURE = min(1.0, CONFIDENT + (1 - CONFIDENT) / 2)  # above the confident threshold
MAYBE = (CONFIDENT + MIDDLING) / 2  # between the two: offered as a choice
FEE_ANSWER = "物业费可以通过以下方式缴纳：\n1、微信公众号“悦居生活”在线缴费；\n2、到物业服务中心前台刷卡或扫码。"


def knowledge() -> MemKnowledge:
    kb = MemKnowledge()
    kb.add("物业费怎么交？", FEE_ANSWER, {"物业费": SURE, "管理费": MAYBE})
    kb.add("物业费的收费标准是多少？", "多层住宅每月每平方米1.8元。", {"管理费": MAYBE})
    kb.add("访客车辆怎么进小区？", "请访客在门岗登记后进入，可免费停放2小时。", {"车": MAYBE})
    return kb


async def owner_with(kb: MemKnowledge | None):
    o = await identified_owner()
    o.ports.knowledge = kb
    return o


async def ask(o, question: str):
    await o.press("咨询")
    await o.send(question)


# --- a confident match -------------------------------------------------------------------------
async def test_a_confident_match_is_answered_at_once_and_the_owner_is_asked_if_it_helped():
    o = await owner_with(knowledge())
    await o.press("咨询")
    assert "常见问题我会马上为您解答" in o.text
    await o.send("请问物业费在哪里交？")
    assert o.step == "kb.helped"
    assert "王女士，关于“物业费怎么交？”：" in o.text
    # the answer as written, line breaks kept
    assert "1、微信公众号“悦居生活”在线缴费；\n2、到物业服务中心前台" in o.text
    assert o.text.endswith("请问这个回答解决您的问题了吗？")
    assert o.labels == ["✅ 已解决", "还有疑问", "👩‍💼 转人工"]
    assert o.ports.tickets.rows == [] and o.ports.knowledge.misses == []
    # the owner's building goes with the question (entries may apply to some buildings only)
    assert o.ports.knowledge.asked == [("请问物业费在哪里交？", Where("", "3"))]


async def test_solved_thanks_and_shows_the_menu():
    o = await owner_with(knowledge())
    await ask(o, "物业费在哪交")
    await o.press("已解决")
    assert "王女士，不客气，很高兴能帮到您。请问还有什么可以帮您？" in o.text
    assert o.step == "menu.main" and "💬 咨询" in o.labels
    assert o.ports.tickets.rows == [] and o.ports.knowledge.misses == []


async def test_the_answer_is_plain_text_escaped_once():
    kb = MemKnowledge()
    kb.add("快递放哪里？", "请到<东门>快递柜 & 驿站取件", {"快递": SURE})
    o = await owner_with(kb)
    await ask(o, "快递放哪里了")
    assert "请到&lt;东门&gt;快递柜 &amp; 驿站取件" in o.text
    assert "<东门>" not in o.text and "&amp;lt;" not in o.text


async def test_still_unsure_files_the_consultation_ticket_and_logs_the_miss():
    o = await owner_with(knowledge())
    await ask(o, "物业费在哪交")
    await o.press("还有疑问")
    assert "不好意思，这个回答没能解决您的问题" in o.text
    draft, _ = o.ports.tickets.rows[0]
    assert draft.kind == "consult" and draft.description == "物业费在哪交"
    assert draft.details["kb_entry"] == 1  # the agents see which answer did not help
    assert "编号<b>ZX-20261123-0001</b>" in o.text and "今天11:00前答复您" in o.text
    assert o.ports.knowledge.misses == [("物业费在哪交", o.account_id, "declined")]
    assert o.step == "menu.main"


async def test_to_a_person_hands_the_question_over_and_nothing_is_left_to_resume():
    o = await owner_with(knowledge())
    await ask(o, "物业费在哪交")
    await o.press("转人工")
    assert o.step == "human.waiting" and o.ports.handoffs.requests == [(o.account_id, None)]
    assert "3分钟内回复您" in o.text
    assert "物业费在哪交" in o.agents[-1]  # the agents' note carries the owner's question
    assert o.ports.knowledge.misses == [("物业费在哪交", o.account_id, "declined")]
    assert o.ports.tickets.rows == [] and o.state.get("paused") is None


# --- a middling match: 您是想问 --------------------------------------------------------------------
async def test_middling_matches_are_offered_as_choices_and_the_chosen_one_answered():
    o = await owner_with(knowledge())
    await ask(o, "管理费的事")
    assert o.step == "kb.pick"
    assert "王女士，您是想问：" in o.text
    assert "• 物业费怎么交？" in o.text and "• 物业费的收费标准是多少？" in o.text
    assert o.labels == ["物业费怎么交？", "物业费的收费标准是多少？", "都不是"]
    await o.press("收费标准")
    assert "关于“物业费的收费标准是多少？”：" in o.text and "每月每平方米1.8元" in o.text
    assert o.step == "kb.helped" and "请问这个回答解决您的问题了吗？" in o.text
    await o.press("已解决")
    assert o.step == "menu.main" and o.ports.tickets.rows == []
    assert o.ports.knowledge.misses == []


async def test_none_of_them_files_the_ticket_and_logs_the_miss_as_other():
    o = await owner_with(knowledge())
    await ask(o, "管理费的事")
    await o.press("都不是")
    draft, _ = o.ports.tickets.rows[0]
    assert draft.kind == "consult" and draft.description == "管理费的事"
    assert "您的咨询已登记" in o.text and "今天11:00前答复您" in o.text
    assert o.ports.knowledge.misses == [("管理费的事", o.account_id, "other")]


async def test_at_most_three_choices_and_a_long_question_is_clipped_on_its_button():
    kb = MemKnowledge()
    long_q = "小区里的电动自行车可以在哪里充电，充电桩怎么收费，晚上几点以后不能充电？"
    kb.add(long_q, "东门和北门各有充电桩。", {"充电": MAYBE})
    for i in range(4):
        kb.add(f"充电问题{i}", "答复", {"充电": MAYBE - 0.001 * (i + 1)})
    o = await owner_with(kb)
    await ask(o, "充电")
    assert len(o.labels) == 4 and o.labels[-1] == "都不是"
    assert o.labels[0].endswith("…") and len(o.labels[0]) < len(long_q)
    assert long_q in o.text  # the message lists it whole


async def test_a_choice_retired_meanwhile_goes_to_a_person():
    kb = knowledge()
    o = await owner_with(kb)
    await ask(o, "管理费的事")
    del kb.entries[2]  # an agent turned it off (/faq off 2) before the owner chose
    await o.press("收费标准")
    assert o.ports.tickets.rows and "您的咨询已登记" in o.text
    assert kb.misses == [("管理费的事", o.account_id, "other")]


# --- no match, no knowledge base ---------------------------------------------------------------
async def test_no_match_files_the_ticket_with_its_reply_time_and_logs_the_miss():
    o = await owner_with(knowledge())
    await ask(o, "小区游泳池什么时候开放？")
    draft, view = o.ports.tickets.rows[0]
    assert view.number == "ZX-20261123-0001" and draft.description == "小区游泳池什么时候开放？"
    assert "今天11:00前答复您" in o.text
    assert o.ports.knowledge.misses == [("小区游泳池什么时候开放？", o.account_id, "none")]
    assert o.step == "menu.main"


async def test_without_a_knowledge_base_a_consultation_is_a_ticket_as_before():
    o = await owner_with(None)
    await o.press("咨询")
    assert "常见问题" not in o.text  # the prompt of old: a person answers
    await o.send("物业费可以线上交吗?")
    draft, view = o.ports.tickets.rows[0]
    assert view.number == "ZX-20261123-0001" and draft.kind == "consult"
    assert "今天11:00前答复您" in o.text and "关于" not in o.text


async def test_a_photo_question_goes_to_a_person_without_asking_the_knowledge_base():
    o = await owner_with(knowledge())
    await o.press("咨询")
    await o.photo(caption="物业费通知单上这一项是什么？", file_id="ph1")
    draft, _ = o.ports.tickets.rows[0]
    assert draft.attachments == [{"kind": "photo", "file_id": "ph1"}]
    assert o.ports.knowledge.asked == []


# --- an outage notice in force is told first ---------------------------------------------------
# the driver's clock is Monday 10:00 in Shanghai: a water cut in 3栋 from 08:00 to 14:00 is on
WATER_CUT = ("water", "", ["3"], MONDAY_10 - timedelta(hours=2), MONDAY_10 + timedelta(hours=4))


async def owner_in_a_water_cut(kb: MemKnowledge):
    o = await owner_with(kb)
    o.ports.notices.add(*WATER_CUT, text="请您提前储水。")
    return o


async def test_a_notice_in_force_is_told_first_then_the_base_if_it_is_something_else():
    kb = knowledge()
    kb.add("停水期间哪里可以领桶装水？", "请到物业服务中心领取。", {"桶装水": SURE})
    o = await owner_in_a_water_cut(kb)
    await ask(o, "停水了，哪里能领桶装水？")
    assert "3栋今天08:00至14:00计划停水" in o.text and kb.asked == []
    assert o.step == "kb.after_notice" and "请问您想咨询的是这件事吗？" in o.text
    await o.press("是其他问题")
    assert o.step == "kb.helped" and "请到物业服务中心领取。" in o.text


async def test_a_notice_that_was_the_answer_ends_with_the_menu():
    o = await owner_in_a_water_cut(knowledge())
    await ask(o, "今天怎么没水了？")
    await o.press("已了解")
    assert o.step == "menu.main" and "请问还有什么可以帮您？" in o.text
    assert o.ports.tickets.rows == [] and o.ports.knowledge.misses == []


async def test_after_a_notice_another_question_nobody_knows_goes_to_a_person():
    o = await owner_in_a_water_cut(knowledge())
    await ask(o, "停水的时候游泳池还开吗")
    await o.press("是其他问题")
    assert o.ports.tickets.rows and o.ports.knowledge.misses[0][2] == "none"


async def test_a_notice_is_told_for_words_typed_at_the_menu_too():
    o = await owner_in_a_water_cut(knowledge())
    await o.send("怎么又停水了")
    assert "计划停水" in o.text and o.step == "kb.after_notice"


# --- words typed at the main menu --------------------------------------------------------------
async def test_a_question_typed_at_the_menu_is_answered_when_the_base_is_sure():
    o = await owner_with(knowledge())
    await o.send("物业费怎么交啊")
    assert o.step == "kb.helped" and "关于“物业费怎么交？”" in o.text
    await o.press("已解决")
    assert o.step == "menu.main"


async def test_a_question_typed_at_the_menu_may_be_offered_choices():
    o = await owner_with(knowledge())
    await o.send("访客的车能进来吗")
    assert o.step == "kb.pick" and "您是想问" in o.text
    assert o.labels == ["访客车辆怎么进小区？", "都不是"]
    await o.press("都不是")
    # the owner asked and none fitted: a person answers, as for 咨询
    assert o.ports.tickets.rows[0][0].description == "访客的车能进来吗"


async def test_words_at_the_menu_the_base_does_not_know_get_the_menu_as_before():
    o = await owner_with(knowledge())
    await o.send("你好")
    assert "请您点击下方的按钮选择" in o.text and o.step == "menu.main"
    assert "💬 咨询" in o.labels
    # words at the menu may be no question at all: nothing logged, nothing filed
    assert o.ports.knowledge.misses == [] and o.ports.tickets.rows == []


async def test_words_at_the_menu_without_a_knowledge_base_get_the_menu_as_before():
    o = await owner_with(None)
    await o.send("物业费怎么交")
    assert "请您点击下方的按钮选择" in o.text and o.step == "menu.main"


async def test_an_emergency_typed_at_the_menu_is_never_taken_for_a_question():
    kb = knowledge()
    kb.add("燃气费怎么交？", "在燃气公司营业厅缴纳。", {"燃气": SURE})
    o = await owner_with(kb)
    await o.send("家里燃气泄漏了，味道很大")
    assert kb.asked == [] and o.step.startswith("emergency.")


async def test_a_repair_put_aside_stays_offered_after_an_answer_at_the_menu():
    o = await owner_with(knowledge())
    await o.press("报修")
    await o.press("厨房")
    await o.send("/menu")
    assert "↩️ 继续刚才的报修" in o.labels
    await o.send("物业费怎么交")
    await o.send("/menu")  # leaves the answer without a word: nothing of it to resume
    assert "↩️ 继续刚才的报修" in o.labels
    await o.press("继续刚才的报修")
    assert o.step.startswith("repair.")


# --- answered without a person: every answer shown is counted (kb_answers) --------------------
def answers(o) -> list[list]:
    """[account, entry (None: a notice), source, outcome] per answer, in the order shown."""
    return list(o.ports.knowledge.answers.values())


async def test_an_answer_is_counted_when_shown_and_stays_shown_if_the_owner_just_leaves():
    o = await owner_with(knowledge())
    await ask(o, "物业费在哪交")
    # written with the answer (the step is durable), before any tap back
    assert answers(o) == [[o.account_id, 1, "entry", "shown"]] and o.last.durable
    await o.send("/menu")  # read it and left: answered without a person
    assert answers(o) == [[o.account_id, 1, "entry", "shown"]]


async def test_the_owners_tap_on_an_answer_is_its_outcome():
    for label, outcome in [("已解决", "solved"), ("还有疑问", "declined"), ("转人工", "human")]:
        o = await owner_with(knowledge())
        await ask(o, "物业费在哪交")
        await o.press(label)
        assert answers(o) == [[o.account_id, 1, "entry", outcome]], label
        assert o.last.durable


async def test_a_chosen_entry_is_counted_and_none_of_them_is_not():
    o = await owner_with(knowledge())
    await ask(o, "管理费的事")
    assert answers(o) == []  # choices offered are no answer yet
    await o.press("收费标准")
    await o.press("已解决")
    assert answers(o) == [[o.account_id, 2, "entry", "solved"]]
    o = await owner_with(knowledge())
    await ask(o, "管理费的事")
    await o.press("都不是")
    assert answers(o) == []


async def test_no_match_is_no_answer():
    o = await owner_with(knowledge())
    await ask(o, "小区游泳池什么时候开放？")
    await o.send("物业费怎么交")  # words at the menu the base is sure of: answered after all
    assert answers(o) == [[o.account_id, 1, "entry", "shown"]]


async def test_a_notice_that_answered_is_counted_as_solved():
    o = await owner_in_a_water_cut(knowledge())
    await ask(o, "今天怎么没水了？")
    assert answers(o) == [[o.account_id, None, "notice", "shown"]]
    await o.press("已了解")
    assert answers(o) == [[o.account_id, None, "notice", "solved"]]


async def test_a_notice_that_was_not_it_is_declined_and_the_entry_then_shown_has_its_own_row():
    kb = knowledge()
    kb.add("停水期间哪里可以领桶装水？", "请到物业服务中心领取。", {"桶装水": SURE})
    o = await owner_in_a_water_cut(kb)
    await ask(o, "停水了，哪里能领桶装水？")
    await o.press("是其他问题")
    await o.press("已解决")
    assert answers(o) == [
        [o.account_id, None, "notice", "declined"],
        [o.account_id, 4, "entry", "solved"],
    ]


async def test_a_notice_then_nothing_known_leaves_only_the_declined_notice():
    o = await owner_in_a_water_cut(knowledge())
    await ask(o, "停水的时候游泳池还开吗")
    await o.press("是其他问题")
    assert answers(o) == [[o.account_id, None, "notice", "declined"]]
    assert o.ports.tickets.rows


async def test_the_same_question_asked_again_is_a_new_answer_with_its_own_outcome():
    o = await owner_with(knowledge())
    await ask(o, "物业费在哪交")
    await o.press("已解决")
    await o.send("物业费怎么交")  # asked again at the menu: a new answer, a new row
    await o.press("转人工")
    assert answers(o) == [
        [o.account_id, 1, "entry", "solved"],
        [o.account_id, 1, "entry", "human"],
    ]


# --- something broken, typed at the menu -------------------------------------------------------
async def test_a_fault_typed_at_the_menu_is_offered_as_a_repair_with_its_words_kept():
    kb = knowledge()
    kb.add("电梯坏了找谁？", "请点击“报修”，我们会安排维修。", {"电梯": SURE})
    o = await owner_with(kb)
    await o.send("厨房水龙头坏了")
    assert o.step == "menu.fault" and kb.asked == []  # not taken for a question
    assert "王女士，您说的“厨房水龙头坏了”，请问您是要报修吗？" in o.text
    assert o.labels == ["🔧 是，我要报修", "💬 不是，我想咨询"]
    await o.press("是，我要报修")
    assert "已为您记下故障描述，提交前我会再和您核对一遍。" in o.text and o.step == "repair.where"
    await o.press("厨房")
    await o.press("水管/漏水")
    # the description is not asked again: the owner's words are the ticket's
    assert o.step == "repair.photos"
    await o.press("没有照片")
    await o.press("一般")
    await o.press("明天上午")
    assert "厨房水龙头坏了" in o.text  # read back before it is filed
    await o.press("确认")
    assert o.ports.tickets.rows[0][0].description == "厨房水龙头坏了"


async def test_a_fault_typed_at_the_menu_can_still_be_a_question():
    kb = knowledge()
    kb.add("电梯坏了找谁？", "请点击“报修”，我们会安排维修。", {"电梯": SURE})
    o = await owner_with(kb)
    await o.send("电梯坏了")
    await o.press("不是，我想咨询")
    assert o.step == "kb.helped" and "关于“电梯坏了找谁？”" in o.text
    assert o.ports.tickets.rows == []


async def test_a_question_about_a_fault_goes_to_the_knowledge_base_as_before():
    kb = knowledge()
    kb.add("电梯坏了找谁？", "请点击“报修”，我们会安排维修。", {"电梯": SURE})
    o = await owner_with(kb)
    await o.send("电梯坏了找谁？")
    assert o.step == "kb.helped" and kb.asked
