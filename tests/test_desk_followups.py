"""What due follow-ups, finished surveys and unanswered owners do, as pure decisions."""

from datetime import timedelta

import pytest

from desk import commands as c
from desk import effects as fx
from desk import handoffs, surveys
from desk.casework import Rules
from desk.handoffs import HandoffView
from dialogs.events import SurveyAnswered
from dialogs.policy import Policy
from tests.test_desk_casework import LIN, NOW, STAFF, TZ, only, taken


@pytest.fixture(scope="module")
def rules():
    return Rules(Policy.load(), NOW, TZ)


def answers(**kw) -> SurveyAnswered:
    base = {"survey_id": 4, "ticket_id": 3, "overall": 5, "speed": 4, "attitude": 5}
    base.update({"solved": True, "comment": "", "mood": "happy"}, **kw)
    return SurveyAnswered(**base)


def test_a_good_survey_closes_a_done_ticket_with_thanks(rules):
    done = taken(status="done")
    out = surveys.answered(answers(), 55, done, STAFF, rules)
    assert only(out, fx.Moved).to_status == "closed"
    thanks = only(out, fx.ToOwner)
    assert thanks.template == "survey_thanks" and not thanks.context["commented"]
    commented = surveys.answered(answers(comment="师傅很专业"), 55, done, STAFF, rules)
    assert only(commented, fx.ToOwner).context["commented"]  # "您的意见我们都记下了" only then
    assert only(out, fx.Noted).note == "5/4/5 happy"
    # an already closed ticket is only thanked for, not moved again
    assert not [
        e
        for e in surveys.answered(answers(), 55, taken(status="closed"), STAFF, rules)
        if isinstance(e, fx.Moved)
    ]


@pytest.mark.parametrize("bad", [{"attitude": 2}, {"solved": False}])
def test_a_bad_survey_reopens_to_its_handler_with_a_call_back_due(rules, bad):
    out = surveys.answered(answers(mood="unhappy", **bad), 55, taken(status="done"), STAFF, rules)
    assert only(out, fx.Reopened) and only(out, fx.Moved).to_status == "in_progress"
    task = only(out, fx.CallbackTaskOpened)
    due = NOW + timedelta(minutes=rules.policy.followups.callback_minutes)
    assert (task.kind, task.agent_id, task.due) == ("bad_review_callback", LIN.id, due)
    assert task.supervisors and task.watch and task.context["supervisors"] == ["周主管"]
    told = only(out, fx.ToOwner)
    assert told.template == "survey_bad_followup" and told.context["due"] == due


def test_a_survey_goes_by_phone_when_the_chat_cannot_reach_the_owner(rules):
    out = surveys.due(taken(status="done"), "survey", 55, True, rules)
    opened = only(out, fx.SurveyOpened)
    assert opened.remind_at == NOW + timedelta(hours=rules.policy.followups.reminder_hours)
    out = surveys.due(taken(status="done"), "recheck", 55, False, rules)
    task = only(out, fx.CallbackTaskOpened)
    assert task.kind == "phone_survey" and task.context["kind"] == "recheck"
    assert task.context["phone"] == "13800000301"


def test_a_reminder_then_expiry_only_for_an_open_survey(rules):
    asked = only(surveys.remind(4, True, rules), fx.SurveyAsked)
    assert asked.expire_at == NOW + timedelta(hours=rules.policy.followups.expire_hours)
    assert surveys.remind(4, False, rules) == []
    assert [type(e) for e in surveys.expire(4, True)] == [fx.SurveyUnanswered, fx.Noted]
    assert surveys.expire(4, False) == []


def test_an_owner_who_blocked_the_bot_is_called_instead(rules):
    out = surveys.unreachable(taken(status="done"), 55, "王女士", "", (4, "survey"), rules)
    assert only(out, fx.OwnerUnreachable).account_id == 55
    assert only(out, fx.SurveyUnanswered).survey_id == 4
    assert only(out, fx.CallbackTaskOpened).kind == "phone_survey"
    alert = next(e for e in out if isinstance(e, fx.ToAgents))
    assert alert.context["salutation"] == "王女士"
    # no ticket behind the message: the account's phone is shown, no task is made up
    out = surveys.unreachable(None, 55, "", "13800000301", (4, "survey"), rules)
    assert only(out, fx.ToAgents).context["phone"] == "13800000301"
    assert not [e for e in out if isinstance(e, fx.CallbackTaskOpened)]


def test_a_waiting_owner_hears_a_new_time_and_the_group_gets_the_join_button(rules):
    h = HandoffView(8, "waiting", 55)
    out = handoffs.nudge(h, "王女士", rules)
    minutes = rules.policy.handoff_wait_minutes
    assert only(out, fx.ToOwner).context["reply_by"] == NOW + timedelta(minutes=minutes)
    group = only(out, fx.ToAgents)
    assert group.relay and group.buttons[0][0].command == c.ClaimHandoff(8)


def test_only_the_holder_or_a_supervisor_releases_a_conversation():
    from tests.test_desk_casework import BOSS, WANG

    active = HandoffView(8, "active", 55, agent_id=LIN.id)
    assert handoffs.may_release(active, LIN) and handoffs.may_release(active, BOSS)
    with pytest.raises(fx.Refusal) as r:
        handoffs.may_release(active, WANG, "小林")
    assert (r.value.reason, r.value.handler) == ("not_yours", "小林")
    with pytest.raises(fx.Refusal):
        handoffs.may_claim(active)
    assert handoffs.may_claim(HandoffView(8, "waiting", 55))


def test_an_agents_words_are_punctuated_held_or_hinted_before_they_reach_the_owner():
    out = handoffs.agent_words("好的,我帮您看看", LIN, 55, "王女士")
    assert only(out, fx.ToOwner).context["text"] == "好的，我帮您看看"
    assert not [e for e in out if isinstance(e, fx.ToAgents)]
    held = handoffs.agent_words("这不归我们管", LIN, 55, "王女士")
    assert [e.template for e in held if isinstance(e, fx.ToAgents)] == ["agent_reply_held"]
    # the hold is recorded for the report's 情绪管理: who, which phrases, to whom
    assert only(held, fx.ReplyHeld) == fx.ReplyHeld(LIN.id, ("不归我们管",), 55)
    hinted = handoffs.agent_words("请问王女士什么时候方便", LIN, 55, "王女士")
    assert [type(e).__name__ for e in hinted] == ["ToOwner", "ToAgents"]
    assert hinted[1].template == "agent_reply_hint"
