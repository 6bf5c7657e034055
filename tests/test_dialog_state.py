"""Conversation state has one owner, the engine: a typed object stored as a dict (old dicts
still load), and takeover and release are events it handles like any other."""

from __future__ import annotations

from dialogs.events import Inbound, SurveyAnswered, SurveyStart, SurveyTap, Takeover
from dialogs.ports import SurveyView
from dialogs.state import ConversationState, Paused, profile_of

from .dialog_driver import identified_owner


async def repair_under_way():
    o = await identified_owner()
    await o.press("报修")
    await o.press("厨房")
    assert o.step == "repair.category"
    return o


def test_a_dict_stored_before_the_type_existed_loads_and_round_trips():
    old = {
        "flow": "repair",
        "step": "category",
        "d": {"area": "厨房"},
        "nonce": 12,
        "choices": ["water", "power"],
        "labels": ["水管", "电路"],
        "profile": {"salutation": "王女士", "unit": {"label": "3栋1单元3A室"}, "owner_id": 4},
        "paused": {"flow": "consult", "step": "question", "d": {"question": "物业费"}},
        "pending_attachments": [{"kind": "photo", "file_id": "p1"}],
        "reply_kb": True,
    }
    st = ConversationState.from_dict(old)
    assert st.where == "repair.category" and st.data == {"area": "厨房"} and st.nonce == 12
    assert st.paused == Paused("consult", "question", {"question": "物业费"})
    assert st.reply_keyboard and st.pending_attachments[0]["file_id"] == "p1"
    assert ConversationState.from_dict(st.to_dict()) == st
    assert st.to_dict() == old
    assert ConversationState.from_dict({}).where == "start.new"


def test_the_profile_is_read_from_a_stored_state_through_one_helper():
    p = profile_of({"profile": {"salutation": "王女士", "unit": {"label": "3A室"}, "owner_id": 4}})
    assert (p.salutation, p.unit_label, p.owner_id) == ("王女士", "3A室", 4)
    assert profile_of(None).salutation == "" and profile_of({}).unit_label == ""


async def test_takeover_puts_the_draft_aside_and_release_offers_it_back():
    o = await repair_under_way()
    await o._go(Inbound("takeover", detail=Takeover("小林", handoff_id=5, ticket_number="")))
    assert o.step == "human.active" and o.state["d"]["agent"] == "小林"
    assert o.state["paused"]["flow"] == "repair" and o.state["choices"] == []
    res = await o.send("你好，请问师傅几点到？")
    assert res.effects and o.text == ""  # relayed to the person; the bot says nothing
    await o._go(Inbound("release"))
    assert o.step == "menu.main" and "继续" in " ".join(o.labels)
    await o.press("继续")
    assert o.step == "repair.category" and o.state["d"]["area"] == "厨房"


async def test_takeover_while_the_survey_comment_is_awaited_ends_the_survey():
    o = await identified_owner()
    o.ports.surveys.add(
        SurveyView(4, 2, o.account_id, "survey", "open", "comment", "BX-2", "小林", True)
    )
    await o._go(Inbound("survey_start", detail=SurveyStart(4)))
    assert o.step == "survey.comment"
    res = await o._go(Inbound("takeover", detail=Takeover("小林", handoff_id=6)))
    assert o.step == "human.active"
    assert [e.survey_id for e in res.effects if isinstance(e, SurveyAnswered)] == [4]
    # the person's words are theirs, never a survey comment
    await o.send("我还想说一下")
    assert o.ports.surveys.rows[4].comment == ""


async def test_a_survey_tap_in_the_middle_of_a_repair_keeps_the_repair_buttons():
    o = await repair_under_way()
    o.ports.surveys.add(
        SurveyView(4, 2, o.account_id, "survey", "open", "overall", "BX-2", "小林", False)
    )
    await o._go(Inbound("survey_start", detail=SurveyStart(4)))
    await o._go(Inbound("survey_answer", detail=SurveyTap(4, "overall", "4")))
    assert o.step == "repair.category"
    await o.token(f"{o.state['nonce']}:0")
    assert o.step != "repair.category"  # the category button shown before still answered
