"""Every command a desk button can stand for packs into Telegram's 64 bytes and unpacks to the
same command; mangled or old data matches no button class (the router answers it as stale)."""

import pytest

from bot.desk.callbacks import DESK_CALLBACKS, OwnerAnswerCb, pack
from desk import commands as c

BIG = 2_000_000_000
COMMANDS = [
    c.Take(BIG),
    c.Grab(3),
    c.Dispatch(3),
    c.Dispatch(BIG, 4),
    c.Dispatch(BIG, 4, 0),
    c.Dispatch(BIG, 4, BIG, 1440),
    c.Progress(3),
    c.Progress(3, 6),
    c.Complete(3),
    c.Complete(3, ""),
    c.Escalate(3),
    c.EscalateReason(3, 2),
    c.Delay(3, 1440),
    c.Reassign(3),
    c.Reassign(3, 12),
    c.ResendSurvey(3),
    c.Takeover(3),
    c.ClaimHandoff(8),
    c.ReleaseHandoff(8),
    c.OpenCallback(5),
]


def unpack(data: str):
    for cls in (*DESK_CALLBACKS, OwnerAnswerCb):
        if data.startswith(cls.__prefix__ + ":"):
            try:
                return cls.unpack(data).command()
            except (ValueError, TypeError):
                return None
    return None


@pytest.mark.parametrize("command", COMMANDS + [c.OwnerAnswer(3, True), c.OwnerAnswer(3, False)])
def test_a_command_survives_the_round_trip(command):
    data = pack(command)
    assert len(data.encode()) <= 64
    assert unpack(data) == command


def test_no_cryptic_codes_on_the_wire():
    words = {pack(cmd).split(":")[0] + ":" + pack(cmd).split(":")[1] for cmd in COMMANDS}
    assert not any(code in w for w in words for code in ("tkov", "rsn", "escr", "wkr", "pstep"))


@pytest.mark.parametrize(
    "data", ["d:complete:1", "d:take:x", "d:tkov:3", "dispatch:3", "o:maybe:3", "d:take"]
)
def test_mangled_data_is_no_command(data):
    assert unpack(data) is None
