"""The agents' casework as command → effects: no Telegram, no database (DESIGN.md, tier 1)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from desk import callbacks, due
from desk import commands as c
from desk import effects as fx
from desk.casework import Rules, handle
from desk.model import Actor, CallbackTask, Case, Staff, Worker
from dialogs.policy import Policy

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
LIN = Actor("agent", 1, "小林")
WANG = Actor("agent", 2, "小王")
BOSS = Actor("agent", 9, "周主管", role="supervisor")
OWNER = Actor("owner", 55)
STAFF = Staff(
    agents=(LIN, WANG, BOSS),
    workers=(Worker(7, "张师傅", "工程部", "13900000007"), Worker(8, "李阿姨", "保洁")),
    supervisors=(BOSS,),
)


@pytest.fixture(scope="module")
def rules():
    return Rules(Policy.load(), NOW, TZ)


def case(**kw) -> Case:
    base = dict(
        id=3,
        number="BX-20261123-0001",
        kind="repair",
        category="water",
        department="工程部",
        status="new",
        urgent=False,
        reporter_account_id=55,
        unit_label="3栋1单元301室",
        contact_phone="13800000301",
        promised_contact_by=NOW + timedelta(hours=1),
    )
    base.update(kw)
    return Case(**base)


def taken(**kw) -> Case:
    return case(**{"status": "accepted", "handler_id": LIN.id, "handler_name": LIN.name, **kw})


def kinds(effects) -> list[str]:
    return [type(e).__name__ for e in effects]


def only(effects, kind):
    found = [e for e in effects if isinstance(e, kind)]
    assert len(found) == 1, effects
    return found[0]


def test_take_sets_the_first_contact_and_tells_the_owner(rules):
    out = handle(c.Take(3), LIN, case(), STAFF, rules)
    assert kinds(out) == ["HandlerSet", "Moved", "CardChanged", "ToOwner"]
    assert only(out, fx.HandlerSet) == fx.HandlerSet(1, "小林")
    assert only(out, fx.Moved).to_status == "accepted"
    assert only(out, fx.ToOwner).context["agent"] == "小林"


def test_a_taken_ticket_is_refused_to_the_next_agent_with_who_has_it(rules):
    with pytest.raises(fx.Refusal) as r:
        handle(c.Take(3), WANG, taken(), STAFF, rules)
    assert (r.value.reason, r.value.handler) == ("already_taken", "小林")
    with pytest.raises(fx.Refusal) as r:
        handle(c.Dispatch(3), WANG, taken(), STAFF, rules)
    assert r.value.reason == "not_yours"
    # a supervisor may act on any ticket
    assert handle(c.Dispatch(3), BOSS, taken(), STAFF, rules)


def test_completing_an_untaken_ticket_is_refused(rules):
    with pytest.raises(fx.Refusal) as r:
        handle(c.Complete(3, "修好了"), LIN, case(), STAFF, rules)
    assert r.value.reason == "state_new"


def test_dispatch_asks_department_then_worker_then_time_and_then_dispatches(rules):
    t = taken()
    ask = only(handle(c.Dispatch(3), LIN, t, STAFF, rules), fx.ToAgents)
    cmds = [b.command for row in ask.buttons for b in row]
    assert cmds[0] == c.Dispatch(3, 0) and len(cmds) == len(rules.policy.departments)
    ask = only(handle(c.Dispatch(3, 0), LIN, t, STAFF, rules), fx.ToAgents)
    labels = [b.label for row in ask.buttons for b in row]
    assert labels == ["张师傅", "agent_btn_no_worker"]  # only 工程部's workers
    with pytest.raises(fx.Refusal) as r:
        handle(c.Dispatch(3, 0, 8), LIN, t, STAFF, rules)  # 李阿姨 is 保洁
    assert r.value.reason == "no_worker"
    with pytest.raises(fx.Refusal):
        handle(c.Dispatch(3, 0, 7, 45), LIN, t, STAFF, rules)  # not an offered time
    out = handle(c.Dispatch(3, 0, 7, 60), LIN, t, STAFF, rules)
    order = only(out, fx.WorkOrdered)
    assert (order.department, order.worker_id, order.due) == ("工程部", 7, NOW + timedelta(hours=1))
    assert only(out, fx.Moved).to_status == "dispatched"
    told = only(out, fx.ToOwner)
    assert told.template == "owner_dispatched" and told.context["phone"] == "13900000007"


def test_a_pause_step_stops_the_clock_and_the_next_dispatch_moves_deadlines(rules):
    t = taken()
    waiting = rules.policy.progress_steps.index("等待配件")
    out = handle(c.Progress(3, waiting), LIN, t, STAFF, rules)
    assert only(out, fx.SlaPaused).since == NOW
    assert only(out, fx.ToAgents).prompt == fx.Prompt("note")
    paused = taken(sla_paused_since=NOW - timedelta(hours=2))
    out = handle(c.Dispatch(3, 0, 0, 30), LIN, paused, STAFF, rules)
    assert only(out, fx.SlaResumed).stood == timedelta(hours=2)
    # a paused clock is not paused twice
    assert not [
        e
        for e in handle(c.Progress(3, waiting), LIN, paused, STAFF, rules)
        if isinstance(e, fx.SlaPaused)
    ]


def test_delay_replans_the_promises_and_apologises_with_the_new_time(rules):
    out = handle(c.Delay(3, 120), LIN, taken(), STAFF, rules)
    new_time = NOW + timedelta(hours=2)
    assert only(out, fx.ArrivalPromised).at == new_time
    assert only(out, fx.FollowUpsCancelled).kinds == ("sla_warn", "sla_overdue")
    watched = [e for e in out if isinstance(e, fx.FollowUpScheduled)]
    assert {(e.kind, e.data["stage"]) for e in watched} >= {
        ("sla_warn", "arrive"),
        ("sla_overdue", "arrive"),
    }
    assert only(out, fx.ToOwner).context["new_time"] == new_time
    with pytest.raises(fx.Refusal):
        handle(c.Delay(3, 7), LIN, taken(), STAFF, rules)


def test_completion_asks_for_a_note_then_schedules_the_survey_by_kind(rules):
    ask = handle(c.Complete(3), LIN, taken(), STAFF, rules)
    assert only(ask, fx.ToAgents).prompt == fx.Prompt("complete")
    out = handle(c.Complete(3, "已更换阀门"), LIN, taken(urgent=True), STAFF, rules)
    assert only(out, fx.Moved).to_status == "done"
    surveys = [e for e in out if isinstance(e, fx.FollowUpScheduled) and e.kind == "survey"]
    # urgent repair: right after; a leak (water) is re-checked days later too
    assert surveys[0].at == NOW + timedelta(minutes=30)
    assert any(s.data.get("kind") == "recheck" for s in surveys)
    buttons = [b.command for row in only(out, fx.ToOwner).buttons for b in row]
    assert buttons == [c.OwnerAnswer(3, True), c.OwnerAnswer(3, False)]


def test_escalation_tells_supervisors_and_the_owner_when_they_will_hear(rules):
    ask = handle(c.Escalate(3), LIN, taken(), STAFF, rules)
    assert only(ask, fx.ToAgents).prompt == fx.Prompt("escalate")
    out = handle(c.EscalateReason(3, 1), LIN, taken(), STAFF, rules)
    assert only(out, fx.ToSupervisors).context["supervisors"] == ["周主管"]
    hours = rules.policy.escalation_reply_hours
    assert only(out, fx.ToOwner).context["reply_by"] == NOW + timedelta(hours=hours)
    with pytest.raises(fx.Refusal):
        handle(c.EscalateReason(3, 99), LIN, taken(), STAFF, rules)


def test_the_owner_reopens_a_done_ticket_back_to_its_handler(rules):
    done = case(status="done", handler_id=1, handler_name="小林")
    out = handle(c.OwnerAnswer(3, False), OWNER, done, STAFF, rules)
    assert only(out, fx.Moved).to_status == "in_progress"
    told = only(out, fx.ToOwner)
    assert told.template == "owner_reopened" and told.context["reply_by"] > NOW
    out = handle(c.OwnerAnswer(3, True), OWNER, done, STAFF, rules)
    assert only(out, fx.Moved).to_status == "closed" and only(out, fx.MarkedOwnerConfirmed)
    with pytest.raises(fx.Refusal):
        handle(c.OwnerAnswer(3, True), OWNER, case(status="closed"), STAFF, rules)


def test_a_worker_may_only_grab_an_urgent_new_ticket(rules):
    zhang = Actor("worker", 7, "张师傅")
    with pytest.raises(fx.Refusal):
        handle(c.Grab(3), zhang, case(), STAFF, rules)  # not urgent
    with pytest.raises(fx.Refusal):
        handle(c.Take(3), zhang, case(urgent=True), STAFF, rules)
    out = handle(c.Grab(3), zhang, case(urgent=True), STAFF, rules)
    assert only(out, fx.Moved).to_status == "dispatched"
    assert only(out, fx.WorkOrdered).worker_id == 7


def test_an_overdue_contact_offers_take_and_a_kept_one_says_nothing(rules):
    data = {"stage": "contact", "deadline": (NOW - timedelta(minutes=1)).isoformat()}
    out = due.sla_overdue(case(), data, STAFF, rules)
    alert = next(e for e in out if isinstance(e, fx.ToAgents))
    assert [b.command for row in alert.buttons for b in row] == [c.Take(3), c.Takeover(3)]
    assert only(out, fx.ToSupervisors) and only(out, fx.MarkedEscalated)
    assert due.sla_overdue(taken(), data, STAFF, rules) == []  # taken: contact kept
    arrive = {"stage": "arrive", "deadline": NOW.isoformat()}
    alert = only(due.sla_overdue(taken(), arrive, STAFF, rules), fx.ToAgents)
    assert all(isinstance(b.command, c.Delay) for row in alert.buttons for b in row)
    on_site = taken(progress_steps=("已到场",))
    assert due.sla_overdue(on_site, arrive, STAFF, rules) == []
    with pytest.raises(due.Paused):
        due.sla_warn(taken(sla_paused_since=NOW), arrive, STAFF, rules)


def test_a_call_back_is_recorded_and_a_bad_review_checked_again_later(rules):
    task = CallbackTask(4, "bad_review_callback", "open", agent_id=1)
    with pytest.raises(fx.Refusal) as r:
        callbacks.open_callback(task, WANG, taken())
    assert r.value.reason == "not_yours"
    assert callbacks.open_callback(task, BOSS, taken())
    out = callbacks.record_callback(task, "已回电，业主满意", LIN, taken(), rules)
    assert only(out, fx.TaskDone).text == "已回电，业主满意"
    later = only(out, fx.FollowUpScheduled)
    days = rules.policy.followups.improvement_days
    assert later.at == NOW + timedelta(days=days) and later.data == {"kind": "improvement"}
    with pytest.raises(fx.Refusal):
        callbacks.record_callback(CallbackTask(4, "x", "done", 1), "再次", LIN, taken(), rules)
