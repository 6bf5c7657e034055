"""Merging and splitting tickets of one fault, as pure decisions (desk/merge.py): who may, who
moves, what each ticket's history says, whom /split names, the split ticket's own promise."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from desk import effects as fx
from desk import merge as m
from desk.model import Actor, Case
from dialogs.policy import Policy

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
LIN = Actor("agent", 1, "小林")
BOSS = Actor("agent", 9, "周主管", role="supervisor")
WANG = m.Reporter(11, 1, "王女士", "13800000301", reporter=True)
CHEN = m.Reporter(12, 2, "陈女士", "13800000302")
ZHAO = m.Reporter(13, 3, "赵先生", "13800000303")
OUYANG = m.Reporter(14, 4, "欧阳女士", "13800000305", reporter=True)


def case(id: int, number: str, status: str = "new") -> Case:
    return Case(id, number, "repair", "lighting", "工程部", status, False, 11)


KEEP, GONE = case(1, "BX-20261123-0001"), case(2, "BX-20261123-0002")


def test_only_a_supervisor_merges_or_splits():
    with pytest.raises(m.MergeRefused) as refused:
        m.may_merge(LIN, ["周主管"])
    assert refused.value.context == {"refusal": "supervisor_only", "supervisors": ["周主管"]}
    m.may_merge(BOSS)  # no refusal


def test_merging_moves_the_owners_not_yet_hearing_and_closes_the_second():
    on_keep, on_gone = m.merge(BOSS, KEEP, GONE, [WANG, CHEN], [OUYANG, CHEN, ZHAO])
    moved = next(e for e in on_gone if isinstance(e, m.ReportersMoved))
    assert moved.into == 1 and moved.reporters == (OUYANG, ZHAO)  # 陈女士 hears already
    assert m.MarkedMerged(1) in on_gone
    closed = next(e for e in on_gone if isinstance(e, fx.Moved))
    assert (closed.action, closed.to_status, closed.note) == ("merged", "closed", KEEP.number)
    told = [e.account_id for e in on_gone if isinstance(e, fx.ToOwner)]
    assert told == [14, 12, 13]  # every owner of the merged ticket hears where it went
    assert fx.Noted("merged_in", BOSS, note=GONE.number) in on_keep
    summary = next(e for e in on_keep if isinstance(e, fx.ToAgents))
    assert summary.context["moved"] == 2 and summary.context["reporters"] == 4
    assert fx.CardChanged() in on_keep and fx.CardChanged() in on_gone


def test_a_ticket_is_not_merged_into_itself_nor_a_finished_one():
    with pytest.raises(m.MergeRefused) as same:
        m.merge(BOSS, KEEP, KEEP, [WANG], [WANG])
    assert same.value.context["refusal"] == "same_ticket"
    with pytest.raises(m.MergeRefused) as done:
        m.merge(BOSS, KEEP, case(2, "BX-20261123-0002", "done"), [WANG], [OUYANG])
    assert done.value.context == {
        "refusal": "not_open",
        "number": "BX-20261123-0002",
        "status": "done",
    }


@pytest.mark.parametrize(
    ("who", "found"), [("陈女士", CHEN), ("陈", CHEN), ("0303", ZHAO), ("13", ZHAO), ("12", CHEN)]
)
def test_split_names_an_owner_who_joined_later(who, found):
    assert m.pick(KEEP.number, [WANG, CHEN, ZHAO], who) is found


def test_split_refuses_the_reporter_an_unknown_name_and_an_ambiguous_one():
    with pytest.raises(m.MergeRefused) as reporter:
        m.pick(KEEP.number, [WANG, CHEN], "王")
    assert reporter.value.context["refusal"] == "reporter"
    with pytest.raises(m.MergeRefused) as nobody:
        m.pick(KEEP.number, [WANG, CHEN, ZHAO], "孙")
    assert nobody.value.context["refusal"] == "nobody"
    assert nobody.value.context["candidates"] == [CHEN, ZHAO]
    twins = m.Reporter(15, None, "陈先生", "13900000302")
    with pytest.raises(m.MergeRefused) as ambiguous:
        m.pick(KEEP.number, [WANG, CHEN, twins], "陈")
    assert ambiguous.value.context["refusal"] == "ambiguous"
    assert ambiguous.value.context["candidates"] == [CHEN, twins]
    with pytest.raises(m.MergeRefused):
        m.pick(KEEP.number, [WANG, CHEN], "302")  # three digits are no phone tail


def test_a_split_owner_gets_the_same_fault_with_a_promise_of_their_own():
    policy = Policy.load()
    fault = m.Fault(
        KEEP.number,
        "repair",
        "lighting",
        "工程部",
        False,
        "楼道灯不亮",
        "3栋5楼楼道",
        {"place": "public", "pub_building": "3", "pub_spot": "楼道", "salutation": "王女士"},
    )
    unit = {"unit_id": 2, "label": "3栋1单元3B室", "verified": True}
    chen = m.Reporter(12, 2, "陈女士", "13800000302", unit=unit, identity_verified=True)
    draft = m.split_draft(fault, chen, policy, NOW.astimezone(ZoneInfo("Asia/Shanghai")))
    assert (draft.reporter_account_id, draft.owner_id, draft.contact_phone) == (
        12,
        2,
        "13800000302",
    )
    assert draft.description == "楼道灯不亮" and draft.location == "3栋5楼楼道"
    assert draft.unit_label == "3栋1单元3B室" and draft.unit_verified
    assert draft.details["salutation"] == "陈女士" and draft.details["split_from"] == KEEP.number
    assert draft.details["pub_spot"] == "楼道"  # the next report of it still matches
    assert draft.promised_contact_by > NOW and draft.followups  # watched afresh
    effects = m.split(BOSS, KEEP, chen, "BX-20261123-0003")
    assert effects[0] == m.SubscriberDropped(12)
    assert fx.Noted("split", BOSS, note="BX-20261123-0003") in effects
