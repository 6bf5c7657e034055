import re
from datetime import UTC, datetime

import pytest

from dialogs.clock import FakeClock
from dialogs.policy import Policy

from .dialog_driver import identified_owner

POLICY = Policy.load()
APOLOGY = re.compile("抱歉|道歉|歉意|对不起")


async def walk_complaint(o, what="楼下装修噪音太大，晚上十点还在施工", category="邻居装修"):
    await o.press("投诉")
    assert "王女士，您的心情我能理解" in o.text and "实在是抱歉" in o.text
    await o.send(what)
    assert o.step == "complaint.category"
    await o.press(category)
    assert o.step == "complaint.where"
    await o.press("我家")
    await o.press("昨天")
    await o.send("希望尽快协调停止夜间施工")
    assert o.step == "complaint.restate"
    assert "请问是这样吗" in o.text and "地点：3栋1单元3A室" in o.text


async def test_six_steps_one_plan_first_then_alternatives_then_close():
    o = await identified_owner()
    o.ports.handoffs.on_duty = "小林"
    await walk_complaint(o)
    plans = POLICY.complaint_plans("renovation")
    await o.press("对的")
    assert o.step == "complaint.plan"
    assert plans[0]["text"] in o.text and "方案1" not in o.text  # one plan first
    await o.press("看看其他方案")
    assert "方案1" in o.text and "方案2" in o.text
    assert "补偿" not in o.text and "赔偿" not in o.text
    await o.press("选择方案2")
    assert "我这样为您解决" in o.text and "您看可以吗" in o.text
    assert o.ports.tickets.rows == []
    await o.press("可以")
    draft, view = o.ports.tickets.rows[0]
    assert view.number.startswith("TS-20261123-")
    assert draft.details["plan"] == plans[2]["text"]
    assert "跟进人：小林" in o.text and "400-800-1234" in o.text
    assert "欢迎您随时联系我们" in o.text
    assert o.step == "menu.main"


async def test_angry_owner_is_calmed_first_and_offered_a_person():
    o = await identified_owner()
    await o.press("投诉")
    await o.send("你们物业太过分了!!再不处理我就打12345投诉你们")
    assert "是的，我明白" in o.text
    assert any("转人工客服" in lb for lb in o.labels)
    await o.press("转人工客服")
    assert o.ports.handoffs.requests
    assert "人工客服" in o.text
    assert "paused" in o.state  # what was said is kept


async def test_calming_an_angry_owner_does_not_stack_a_second_apology():
    """The opening (step A) already apologised and promised 竭尽所能: what the angry owner
    receives next is one calm acknowledgement, then the next question."""
    o = await identified_owner()
    await o.press("投诉")
    opening = o.text
    assert len(APOLOGY.findall(opening)) == 1 and opening.count("竭尽所能") == 1
    await o.send("太气人了，楼上天天半夜装修，你们到底管不管")
    step_text = o.text
    assert "是的，我明白" in step_text
    assert not APOLOGY.search(step_text), step_text
    assert "竭尽所能" not in step_text
    assert step_text.count("我明白") == 1, step_text
    assert "理解" not in step_text.replace("是的，我明白", ""), step_text


async def test_an_angry_complaint_apologises_once_and_thanks_later():
    o = await identified_owner()
    seen = []

    async def act(coro):
        await coro
        seen.append(o.text)

    await act(o.press("投诉"))
    await act(o.send("受不了了！！楼下的狗每天叫到半夜"))
    await act(o.press("宠物"))
    await act(o.press("我所在楼栋"))
    await act(o.press("最近几天"))
    await act(o.send("请你们去提醒一下"))
    assert "谢谢" in seen[-1] or "感谢" in seen[-1]  # the restatement thanks, not apologises
    await act(o.press("对的"))
    await act(o.press("就这样处理"))
    await act(o.press("可以"))
    everything = "\n".join(seen)
    assert len(APOLOGY.findall(everything)) == 1, everything
    assert everything.count("竭尽所能") == 1
    assert o.ports.tickets.rows and "感谢" in seen[-1]
    assert "跟进人：受理的客服同事" in seen[-1]  # nobody on duty: no made-up name


@pytest.mark.parametrize(
    "words",
    [
        "太气人了，楼道灯坏了一个月",
        "真是受不了，天天这样",
        "什么破物业，车位被人占了",
        "这件事我要投诉到底",
        "楼下噪音吵得人睡不着！！",
        "你们还管不管了？？",
        "有完没完，垃圾桶又满了",
    ],
)
async def test_everyday_anger_is_recognised(words):
    o = await identified_owner()
    await o.press("投诉")
    await o.send(words)
    assert "是的，我明白" in o.text
    assert any("转人工客服" in lb for lb in o.labels)


async def test_a_hygiene_complaint_about_rubbish_is_not_taken_for_anger():
    o = await identified_owner()
    await o.press("投诉")
    await o.send("3栋楼道的垃圾已经放了三天，一直有味道")
    assert "是的，我明白" not in o.text
    assert not any("转人工客服" in lb for lb in o.labels)


async def test_categories_fit_common_cases_each_with_department_group_and_plans():
    o = await identified_owner()
    await o.press("投诉")
    await o.send("楼上邻居家里每天晚上很吵")
    for label in ("邻里噪音", "邻居装修", "停车", "宠物", "环境卫生", "服务态度", "安全", "设施"):
        assert any(label in lb for lb in o.labels), (label, o.labels)
    for key, cat in POLICY.complaint_categories.items():
        assert cat["group"] in ("设施", "服务", "安全"), key  # 000 §03 classification kept
        assert cat["department"] in POLICY.departments, key
        assert len(cat["plans"]) >= 3, key


async def test_the_ticket_keeps_the_category_group_and_a_safety_issue_is_urgent():
    o = await identified_owner()
    await o.press("投诉")
    await o.send("地下车库的消防通道被杂物堵住了")
    await o.press("安全")
    await o.press("停车场")
    await o.press("今天")
    await o.send("尽快清理")
    assert "停车场/车库" in o.text  # the place as the owner chose it, in the restatement
    await o.press("对的")
    await o.press("就这样处理")
    await o.press("可以")
    draft, _ = o.ports.tickets.rows[0]
    assert draft.details["group"] == "安全" and draft.urgent
    assert draft.location == "停车场/车库"


async def test_places_fit_common_cases():
    o = await identified_owner()
    await o.press("投诉")
    await o.send("小区门口的路灯坏了")
    await o.press("设施")
    for label in ("我家", "我所在楼栋", "小区公共区域", "停车场/车库", "小区外围"):
        assert any(label in lb for lb in o.labels), (label, o.labels)
    await o.press("我所在楼栋")
    await o.press("今天")
    await o.send("尽快修好")
    assert "地点：3栋" in o.text


async def test_other_options_never_list_the_plan_just_declined():
    o = await identified_owner()
    await walk_complaint(o)
    plans = POLICY.complaint_plans("renovation")
    await o.press("对的")
    await o.press("看看其他方案")
    assert plans[0]["text"] not in o.text
    assert plans[1]["text"] in o.text and plans[2]["text"] in o.text
    await o.press("选择方案1")  # = plans[1]
    assert plans[1]["text"] in o.text
    await o.press("再看看其他方案")
    assert plans[1]["text"] not in o.text and plans[0]["text"] not in o.text
    assert plans[2]["text"] in o.text


TIME = re.compile(r"\d+(分钟|小时|天|个工作日)(内|后)|每天|立即|马上|今天\d|明天\d")
FAULT = ("整改", "改进", "批评", "处罚", "追责", "道歉")


def test_every_plan_carries_a_time_and_presumes_no_fault():
    for key, cat in POLICY.complaint_categories.items():
        for p in cat["plans"]:
            text = p["text"]
            assert TIME.search(text), (key, text)
            assert "当天内" not in text and "在当天" not in text, (key, text)
            for w in FAULT:
                if w in text:
                    # checking comes first: "核实情况后……"
                    assert "核实" in text and text.index("核实") < text.index(w), (key, text)
            assert p["benefit"] and "好处" not in p["benefit"], (key, p)


async def test_plans_are_offered_in_plain_words_not_sales_talk():
    o = await identified_owner()
    await walk_complaint(o)
    await o.press("对的")
    assert "这样可以" in o.text and "好处" not in o.text
    await o.press("看看其他方案")
    assert "这样可以" in o.text and "好处" not in o.text


async def test_restate_modify_one_field():
    o = await identified_owner()
    await walk_complaint(o)
    await o.press("修改")
    await o.press("时间")
    await o.press("今天")
    assert o.step == "complaint.restate" and "时间：今天" in o.text


async def test_consultation_becomes_a_ticket_with_reply_time():
    o = await identified_owner()
    await o.press("咨询")
    await o.send("物业费可以线上交吗?")
    draft, view = o.ports.tickets.rows[0]
    assert view.number == "ZX-20261123-0001" and draft.kind == "consult"
    assert "今天11:00前答复您" in o.text


@pytest.mark.parametrize("words", ["👍", "😀😀😀", "？", "嗯", "。。。", "!", "a", "🙏 ！"])
async def test_a_consultation_needs_words(words):
    o = await identified_owner()
    await o.press("咨询")
    await o.send(words)
    assert o.ports.tickets.rows == []
    assert o.step == "consult.question"
    assert "请您" in o.text and "咨询" in o.text
    await o.send("物业费可以线上交吗？")
    draft, _ = o.ports.tickets.rows[0]
    assert draft.description == "物业费可以线上交吗？"


async def test_a_photo_with_only_an_emoji_keeps_the_photo_and_asks_for_words():
    o = await identified_owner()
    await o.press("咨询")
    await o.photo(caption="👀", file_id="ph1")
    assert o.ports.tickets.rows == [] and o.step == "consult.question"
    await o.send("这个告示是什么意思？")
    draft, _ = o.ports.tickets.rows[0]
    assert draft.attachments == [{"kind": "photo", "file_id": "ph1"}]


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
