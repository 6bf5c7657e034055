"""The main menu, reachable at any time (/menu), and /cancel."""

from __future__ import annotations

from ..events import Inbound
from ..session import Session
from ..steps import enter, entry, goto, reprompt, step

FLOW_START = {
    "repair": "repair.where",
    "complaint": "complaint.what",
    "consult": "consult.question",
}


@entry("menu.show")
async def show_menu(s: Session, pause: bool = False) -> None:
    """Show the menu; with `pause`, a dialog under way is kept so the owner can resume it."""
    urgent_kept = await _urgent_ticket_stands(s)
    if not urgent_kept and pause and s.state.pause():
        s.say("menu_paused", flow=s.state.flow)
    if not s.profile.get("salutation"):
        await enter(s, "start")
        return
    s.reset_dialog()
    await goto(s, "menu.main")


@entry("menu.cancel")
async def cancel(s: Session) -> None:
    if await _urgent_ticket_stands(s):
        await show_menu(s)
        return
    in_dialog = s.state.flow not in ("menu", "start")
    s.state.paused = None
    s.say("cancelled" if in_dialog else "cancel_nothing")
    await show_menu(s)


async def _urgent_ticket_stands(s: Session) -> bool:
    """An urgent ticket already made is never thrown away by /menu or /cancel: what the owner
    said so far is kept on it, and they are told it stands."""
    if not (s.d.get("emergency") and s.d.get("ticket_id")):
        return False
    await enter(s, "emergency.keep_ticket")
    return True


# words typed at the menu may be a question the knowledge base answers (issue 12)
@step("menu.main", accepts={"choice", "text"})
async def ask_menu(s: Session) -> None:
    rows = [
        [(s.label("menu_repair"), "repair"), (s.label("menu_complaint"), "complaint")],
        [(s.label("menu_consult"), "consult"), (s.label("menu_mine"), "mine")],
        [(s.label("menu_human"), "human")],
    ]
    paused = s.state.paused
    if paused:
        rows.insert(0, [(s.label(f"resume_{paused.flow}"), "resume")])
    rows.append([(s.label("menu_switch_unit"), "switch")])
    s.ask("menu", rows)


@ask_menu.on
async def on_menu(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "resume" and s.state.resume():
        s.say("resumed")
        await reprompt(s)
        return
    if value in FLOW_START:
        s.state.paused = None
        s.reset_dialog()
        await goto(s, FLOW_START[value])
    elif value == "mine":
        await goto(s, "mine.list")
    elif value == "human":
        await enter(s, "handoff.request")
    elif value == "switch":
        s.reset_dialog()
        s.d["after"] = "menu"
        await goto(s, "id.contact")
    elif value is None:
        text = ev.text.strip()
        if s.has_cue("fault", text) and not s.has_cue("asking", text):
            s.d["said"] = text
            await goto(s, "menu.fault")
            return
        await enter(s, "consult.typed", question=ev.text, otherwise=_use_buttons)


# --- 电梯坏了, typed at the menu: a repair, asked before it is taken for a question --------------
@step("menu.fault", accepts={"choice"})
async def ask_fault(s: Session) -> None:
    s.ask(
        "menu_fault_offer",
        [[(s.label("menu_fault_repair"), "repair")], [(s.label("menu_fault_ask"), "ask")]],
        said=s.d.get("said", ""),
    )


@ask_fault.on
async def on_fault(s: Session, ev: Inbound, value: str | None) -> None:
    said = s.d.get("said", "")
    s.reset_dialog()
    if value == "repair":
        s.state.paused = None  # as the menu's 报修 button: a new repair, not the one put aside
        # the owner's words are the description: the repair asks where and what, not again how
        s.d["description"] = said
        s.say("menu_fault_kept")
        await goto(s, FLOW_START["repair"])
        return
    s.set_step("menu", "main")
    await enter(s, "consult.typed", question=said, otherwise=_use_buttons)


async def _use_buttons(s: Session) -> None:
    s.say("bad_use_buttons")
    await reprompt(s)
