"""The 回访 survey as a dialog flow over in-memory ports: standing buttons that work whatever the
owner is doing, the solved question skipped after 已解决, the comment asked only when the owner is
idle and left by anything but words, the mood, and the SurveyAnswered effect for the desk."""

from __future__ import annotations

from dialogs.events import Inbound, SurveyAnswered, SurveyStart
from dialogs.flows.survey import parse_tap
from dialogs.ports import SurveyView

from .dialog_driver import Owner, identified_owner


def add_survey(o: Owner, *, sid: int = 7, owner_confirmed: bool = False) -> SurveyView:
    return o.ports.surveys.add(
        SurveyView(
            id=sid,
            ticket_id=3,
            account_id=o.account_id,
            kind="survey",
            state="open",
            step="overall",
            ticket_number="BX-20261123-0001",
            handler_name="小林",
            owner_confirmed=owner_confirmed,
        )
    )


def stored(o: Owner, sid: int = 7) -> SurveyView:
    return o.ports.surveys.rows[sid]


async def start(o: Owner, sid: int = 7, reminder: bool = False):
    res = await o._go(Inbound("survey_start", detail=SurveyStart(sid, reminder=reminder)))
    survey_buttons(o)
    return res


def survey_buttons(o: Owner) -> list[tuple[str, str]]:
    """The newest survey question's buttons (a refused tap sends nothing new)."""
    found = [
        (c.label, c.value) for r in o.last.replies if r.standing for row in r.rows for c in row
    ]
    if found:
        o.survey_seen = found
    return getattr(o, "survey_seen", [])


async def tap(o: Owner, label: str, token: str | None = None):
    if token is None:
        token = next(t for lb, t in survey_buttons(o) if label in lb)
    res = await o._go(Inbound("survey_answer", detail=parse_tap(token)))
    survey_buttons(o)
    return res


async def tap_menu(o: Owner, value: str):
    """A button of the menu shown before the survey (still on the owner's screen)."""
    return await o.token(f"{o.state['nonce']}:{o.state['choices'].index(value)}")


def answered(o: Owner) -> list[SurveyAnswered]:
    return [e for e in o.last.effects if isinstance(e, SurveyAnswered)]


async def test_questions_are_standing_buttons_and_the_owners_dialog_is_untouched():
    o = await identified_owner()
    await o.press("报修")
    before = (o.step, o.state["nonce"], list(o.state["choices"]))
    add_survey(o)
    await start(o)
    assert "1/5 请问您对这次服务总体满意吗" in o.text and "BX-20261123-0001" in o.text
    assert survey_buttons(o)[0][1] == "s:7:overall:5"
    assert (o.step, o.state["nonce"], o.state["choices"]) == before
    await tap(o, "非常满意")
    assert "2/5" in o.text and stored(o).overall == 5
    # the repair's own buttons still work after a survey answer
    assert (o.step, o.state["nonce"]) == before[:2]


async def test_solved_is_skipped_after_yijiejue_comment_then_happy():
    o = await identified_owner()
    add_survey(o, owner_confirmed=True)
    await start(o)
    await tap(o, "非常满意")
    await tap(o, "🙂 满意")
    await tap(o, "非常满意")
    assert "5/5" in o.text and "4/5" not in o.text  # 问题是否已解决 skipped
    assert o.step == "survey.comment"
    await o.send("师傅很专业，谢谢")
    (done,) = answered(o)
    assert (done.overall, done.speed, done.attitude, done.solved) == (5, 4, 5, True)
    assert done.comment == "师傅很专业，谢谢" and done.mood == "happy" and not done.bad
    assert stored(o).state == "answered" and stored(o).mood == "happy"
    assert o.step == "menu.main"
    # the menu shown before the survey still answers
    await tap_menu(o, "repair")
    assert o.step == "repair.where"


async def test_no_to_solved_is_a_bad_review_and_skip_ends_without_comment():
    o = await identified_owner()
    add_survey(o)
    await start(o)
    for label in ("非常不满意", "不满意", "一般", "否"):
        await tap(o, label)
    await tap(o, "跳过")
    (done,) = answered(o)
    assert done.bad and done.solved is False and done.mood == "unhappy" and done.comment == ""
    assert o.step == "menu.main"


async def test_comment_is_not_asked_while_a_dialog_is_under_way():
    o = await identified_owner()
    await o.press("报修")
    add_survey(o)
    await start(o)
    for label in ("满意", "满意", "满意", "是"):
        await tap(o, label)
    (done,) = answered(o)
    assert done.mood == "happy" and "5/5" not in o.text
    assert o.step == "repair.where"


async def test_an_old_or_foreign_button_changes_nothing():
    o = await identified_owner()
    add_survey(o)
    other = add_survey(o, sid=8)
    other.account_id = 99
    await start(o)
    res = await tap(o, "", "s:7:speed:1")  # not the current question
    assert res.alert == "survey_stale" and stored(o).speed is None
    res = await tap(o, "", "s:8:overall:1")  # someone else's survey
    assert res.alert == "survey_stale" and stored(o, 8).overall is None
    res = await tap(o, "", "s:7:overall:9")  # no such score
    assert res.alert == "survey_stale" and stored(o).overall is None
    await tap(o, "非常满意")
    res = await tap(o, "", "s:7:overall:1")  # a double tap
    assert res.alert == "survey_stale" and stored(o).overall == 5


async def test_menu_leaves_the_comment_and_the_menu_label_starts_a_repair():
    """Seen: /menu then 报修 after the comment was asked stored "🔧 报修" as the comment."""
    o = await identified_owner()
    add_survey(o, owner_confirmed=True)
    await start(o)
    for label in ("满意", "满意", "满意"):
        await tap(o, label)
    assert o.step == "survey.comment"
    await o.send("/menu")
    (done,) = answered(o)
    assert done.comment == "" and stored(o).state == "answered"
    await o.send("🔧 报修")
    assert o.step == "repair.where"
    assert stored(o).comment == ""


async def test_a_menu_button_tapped_at_the_comment_is_the_menus():
    o = await identified_owner()
    add_survey(o, owner_confirmed=True)
    await start(o)
    for label in ("满意", "满意", "满意"):
        await tap(o, label)
    await tap_menu(o, "repair")  # the menu's buttons were never replaced
    assert o.step == "repair.where" and answered(o)


async def test_an_emergency_typed_as_the_comment_is_caught_and_kept_as_the_comment():
    o = await identified_owner()
    add_survey(o, owner_confirmed=True)
    await start(o)
    for label in ("满意", "满意", "满意"):
        await tap(o, label)
    await o.send("刚修好的插座又冒烟了，有焦味")
    assert o.ports.tickets.rows and o.ports.tickets.rows[-1][0].emergency
    assert "电闸" in o.text  # the safety advice first
    (done,) = answered(o)
    assert done.comment == "刚修好的插座又冒烟了，有焦味"


async def test_a_reminder_at_the_comment_asks_it_again_and_an_expired_survey_lets_go():
    o = await identified_owner()
    add_survey(o, owner_confirmed=True)
    await start(o)
    for label in ("满意", "满意", "满意"):
        await tap(o, label)
    await start(o, reminder=True)
    assert "还没有收到您的评价" in o.text and o.step == "survey.comment"
    stored(o).state = "no_answer"  # expired meanwhile
    await o.send("好的")
    assert o.step == "menu.main" and not answered(o)


async def test_a_comment_stored_by_an_older_version_still_loads():
    o = await identified_owner()
    add_survey(o, owner_confirmed=True)
    sv = stored(o)
    sv.step = "comment"
    o.state["survey_comment"] = 7  # the flag the bot used to write into the state
    await o.send("很满意")
    (done,) = answered(o)
    assert done.comment == "很满意" and o.step == "menu.main"
