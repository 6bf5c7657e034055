from datetime import datetime
from zoneinfo import ZoneInfo

from dialogs.policy import Policy

SH = ZoneInfo("Asia/Shanghai")
P = Policy.load().followups


def at(h, m=0, d=23):
    return datetime(2026, 11, d, h, m, tzinfo=SH)


def test_timing_by_kind_of_work():
    urgent = P.after_completion(
        kind="repair",
        category="power",
        department="工程部",
        urgent=True,
        local_done=at(15),
        last_routine=None,
    )
    assert [(d.kind, d.at) for d in urgent] == [("survey", at(15, 30))]
    ordinary = P.after_completion(
        kind="repair",
        category="doors",
        department="工程部",
        urgent=False,
        local_done=at(15),
        last_routine=None,
    )
    assert ordinary[0].at == at(9, d=24)
    complaint = P.after_completion(
        kind="complaint",
        category="service",
        department="客服",
        urgent=False,
        local_done=at(15),
        last_routine=None,
    )
    assert complaint[0].at == at(19)
    leak = P.after_completion(
        kind="repair",
        category="water",
        department="工程部",
        urgent=False,
        local_done=at(15),
        last_routine=None,
    )
    assert leak[1].at == at(15, d=26) and leak[1].data == {"kind": "recheck"}


def test_routine_survey_at_most_once_a_quarter():
    recent = P.after_completion(
        kind="repair",
        category="other",
        department="保洁",
        urgent=False,
        local_done=at(15),
        last_routine=at(15, d=1),
    )
    assert recent == []
    old = P.after_completion(
        kind="repair",
        category="other",
        department="保洁",
        urgent=False,
        local_done=at(15),
        last_routine=datetime(2026, 7, 1, tzinfo=SH),
    )
    assert old and old[0].data == {"kind": "routine"}


def test_quiet_hours_defer_to_the_morning_but_not_urgent():
    assert P.defer_quiet(at(22)) == at(8, d=24)
    assert P.defer_quiet(at(6)) == at(8)
    assert P.defer_quiet(at(12)) == at(12)
    assert P.defer_quiet(at(22), urgent=True) == at(22)


def test_sla_reminder_at_80_percent_on_working_time():
    # ordinary repair promised for 11:00 tomorrow; created 19:00, hours end 20:00
    due = P.sla(
        kind="repair",
        urgent=False,
        local_created=at(19),
        contact_by=at(8, 30, d=24),
        arrive_by=at(11, d=24),
    )
    arrive = [d for d in due if d.data["stage"] == "arrive"]
    # 240 working minutes to the arrival (60 today, 180 tomorrow); 80% = 192 → 10:12
    assert arrive[0].kind == "sla_warn" and arrive[0].at == at(10, 12, d=24)
    assert arrive[1].kind == "sla_overdue" and arrive[1].at == at(11, d=24)


def test_the_first_promise_is_watched_before_the_last():
    """The contact promise gets its own reminder and alert, before the arrival's (seen: owner
    promised contact by 10:07, nobody took it, the group heard nothing until 12:49)."""
    due = P.sla(
        kind="repair",
        urgent=False,
        local_created=at(9, 37),
        contact_by=at(10, 7),
        arrive_by=at(13, 37),
    )
    stages = [(d.data["stage"], d.kind, d.at) for d in due]
    assert stages[:2] == [
        ("contact", "sla_warn", at(10, 1)),
        ("contact", "sla_overdue", at(10, 7)),
    ]
    assert ("arrive", "sla_overdue", at(13, 37)) in stages
    # completion is watched too, after the arrival
    assert any(s == "complete" and k == "sla_overdue" and t > at(13, 37) for s, k, t in stages)
    assert sorted(d.at for d in due if d.kind == "sla_overdue") == [
        d.at for d in due if d.kind == "sla_overdue"
    ]


def test_a_kept_promise_stage_is_met():
    assert P.stage_met("contact", "accepted", True, False)
    assert not P.stage_met("contact", "new", False, False)
    assert not P.stage_met("arrive", "dispatched", True, False)
    assert P.stage_met("arrive", "in_progress", True, True)
    assert P.stage_met("complete", "done", True, False)
