"""Callback data is validated before use: ids an INTEGER column holds (1..2**31-1), known shapes.
Anything else is no command (the tap is then answered as stale, tests/test_e2e_hostile.py)."""

from __future__ import annotations

import pytest

from bot.desk.callbacks import (
    DESK_CALLBACKS,
    MAX_ID,
    OwnerAnswerCb,
    SurveyAnswerCb,
    TicketAction,
    TicketCb,
)
from bot.desk.legacy_callbacks import old_command
from desk import commands as c
from dialogs.events import SurveyTap
from dialogs.flows.survey import parse_tap

HUGE = "99999999999999999999"


def unpacked(data: str):
    for cls in (*DESK_CALLBACKS, OwnerAnswerCb, SurveyAnswerCb):
        try:
            return cls.unpack(data)
        except (TypeError, ValueError):
            continue
    return None


@pytest.mark.parametrize(
    "data",
    [
        f"d:take:{HUGE}",
        f"d:take:{MAX_ID + 1}",
        "d:take:0",
        "d:take:-3",
        f"d:prog:3:{HUGE}",  # the card's version
        f"dispatch:3:{HUGE}::",
        f"dispatch:3:1:{HUGE}:",
        f"dispatch:3:1:2:{HUGE}",
        f"progress:{HUGE}:0",
        "progress:3:-1",
        f"complete:{HUGE}",
        f"delay:3:{HUGE}",
        f"reassign:3:{HUGE}",
        f"escalate:{HUGE}:1",
        f"handoff:claim:{HUGE}",
        f"callback:{HUGE}",
        f"o:unsolved:{HUGE}",
        f"o:solved:{HUGE}",
        f"s:{HUGE}:overall:5",
        "s:0:overall:5",
        "s:3:overall:6",
        "s:3:overall:",
        "s:3:solved:2",
        "s:3:comment:hello",
        "s:3:mood:5",
        "s:3:overall:5:extra",
    ],
)
def test_out_of_range_or_unknown_is_no_command(data):
    assert unpacked(data) is None


def test_the_largest_id_is_still_one():
    assert TicketCb.unpack(f"d:take:{MAX_ID}").command() == c.Take(MAX_ID)
    packed = TicketCb(action=TicketAction.take, ticket_id=MAX_ID).pack()
    assert TicketCb.unpack(packed).ticket_id == MAX_ID
    assert SurveyAnswerCb.unpack(f"s:{MAX_ID}:solved:1").survey_id == MAX_ID


@pytest.mark.parametrize(
    "data",
    [f"d:pstep:{HUGE}:0", f"d:tkov:{HUGE}", f"d:eta:1:1:1:{HUGE}", "d:rsn:1:-5", "d:esc:１"],
)
def test_old_buttons_with_huge_or_odd_numbers_are_no_command(data):
    assert old_command(data) is None


def test_old_buttons_within_range_still_mean_their_command():
    assert old_command(f"d:pstep:{MAX_ID}:0") == c.Progress(MAX_ID, 0)
    assert old_command("d:wkr:3:1:0") == c.Dispatch(3, 1, 0)


@pytest.mark.parametrize(
    ("token", "tap"),
    [
        ("s:7:overall:5", SurveyTap(7, "overall", "5")),
        ("s:7:speed:1", SurveyTap(7, "speed", "1")),
        ("s:7:solved:0", SurveyTap(7, "solved", "0")),
        ("s:7:comment:skip", SurveyTap(7, "comment", "skip")),
        (f"s:{HUGE}:overall:5", None),
        ("s:-7:overall:5", None),
        ("s:٧:overall:5", None),  # a digit, but not an ASCII one
        ("s:7:overall:9", None),
        ("s:7:nonsense:5", None),
        ("x:7:overall:5", None),
        ("s:7:overall", None),
    ],
)
def test_survey_taps_are_parsed_only_in_known_shapes(token, tap):
    assert parse_tap(token) == tap
