"""Outages first: while a notice is in force for the owner's building, a repair in its category
or a question about it is answered with the notice before anything is filed (issue 12, part 2).

The repair flow asks afterwards whether the problem is something else (`repair.notice`): only
"是其他问题" goes on to a ticket; "不用报修" thanks the owner and returns to the menu."""

from __future__ import annotations

from ..events import Inbound
from ..notices import context, kinds_for
from ..ports import NoticeView, Where
from ..session import Session
from ..steps import enter, goto, step
from .repair_common import advance


def _where(s: Session) -> Where | None:
    unit = s.profile.get("unit") or {}
    if not unit.get("building"):
        return None
    return Where(unit.get("community", ""), unit["building"])


async def matching_notices(
    s: Session, *, category: str | None = None, text: str = ""
) -> list[NoticeView]:
    """The notices in force for the owner's building whose kind the category or the words
    answer (dialogs/data/notices.toml)."""
    where = _where(s)
    if s.ports.notices is None or where is None:
        return []
    wanted = kinds_for(category, text)
    if not wanted:
        return []
    found = await s.ports.notices.active(where, s.now())
    return [n for n in found if n.kind in wanted]


async def tell_active_notice(s: Session, *, category: str | None = None, text: str = "") -> bool:
    """True when a notice in force was told to the owner (the caller then asks whether the
    problem is something else before filing). Says the notice and nothing else."""
    found = await matching_notices(s, category=category, text=text)
    if not found:
        return False
    s.say("notice_in_force", notices=[context(n, s.tz) for n in found])
    return True


async def notice_first(s: Session) -> bool:
    """After the repair's category: a home repair, or a public one in the owner's own building,
    is told the notice that explains it, and asked whether it is something else. False: go on.
    Asked once per repair: an owner who said it is something else is not asked again."""
    d = s.d
    if d.get("notice_other"):
        return False
    own = (s.profile.get("unit") or {}).get("building")
    if d.get("place") == "public" and d.get("pub_building") != own:
        return False
    if not await tell_active_notice(s, category=d.get("category")):
        return False
    await goto(s, "repair.notice")
    return True


@step("repair.notice", accepts={"choice"})
async def ask_other(s: Session) -> None:
    s.ask(
        "notice_ask_other",
        [[(s.label("notice_other_problem"), "other"), (s.label("notice_no_repair"), "none")]],
    )


@ask_other.on
async def on_other(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "other":
        s.d["notice_other"] = True
        await advance(s)
        return
    s.say("notice_no_repair")
    s.reset_dialog()
    await enter(s, "menu.show")
