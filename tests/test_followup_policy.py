from datetime import datetime
from zoneinfo import ZoneInfo

from dialogs.followup_policy import FollowUpPolicy
from dialogs.policy import Policy

SH = ZoneInfo("Asia/Shanghai")
P = FollowUpPolicy(Policy.load())


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
    # ordinary repair promised within 240 working minutes; created 19:00, hours end 20:00
    due = P.sla(
        kind="repair", category="doors", urgent=False, local_created=at(19), deadline=at(11, d=24)
    )
    warn = due[0].at
    # 192 working minutes: 60 today, then 132 from 08:00 tomorrow → 10:12
    assert warn == at(10, 12, d=24)
    assert due[1].kind == "sla_overdue"
