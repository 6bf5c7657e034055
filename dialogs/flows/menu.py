"""The main menu, reachable at any time (/menu), and /cancel."""

from __future__ import annotations

from ..events import Inbound
from ..session import Session
from ..steps import STEPS, goto, step

RESUMABLE = ("repair", "complaint", "consult")
FLOW_START = {
    "repair": "repair.where",
    "complaint": "complaint.what",
    "consult": "consult.question",
}


async def show_menu(s: Session, pause: bool = False) -> None:
    """Show the menu; with `pause`, a dialog under way is kept so the owner can resume it."""
    urgent_kept = await _urgent_ticket_stands(s)
    if not urgent_kept and pause and s.state["flow"] in RESUMABLE and s.d:
        s.state["paused"] = {"flow": s.state["flow"], "step": s.state["step"], "d": s.d}
        s.say("menu_paused", flow=s.state["flow"])
    if not s.profile.get("salutation"):
        from . import start

        await start.on_start(s)
        return
    s.reset_dialog()
    await goto(s, "menu.main")


async def cancel(s: Session) -> None:
    if await _urgent_ticket_stands(s):
        await show_menu(s)
        return
    in_dialog = s.state["flow"] not in ("menu", "start")
    s.state.pop("paused", None)
    s.say("cancelled" if in_dialog else "cancel_nothing")
    await show_menu(s)


async def _urgent_ticket_stands(s: Session) -> bool:
    """An urgent ticket already made is never thrown away by /menu or /cancel: what the owner
    said so far is kept on it, and they are told it stands."""
    if not (s.d.get("emergency") and s.d.get("ticket_id")):
        return False
    from . import emergency

    await emergency.keep_ticket(s)
    return True


@step("menu.main", accepts={"choice"})
async def ask_menu(s: Session) -> None:
    rows = [
        [(s.label("menu_repair"), "repair"), (s.label("menu_complaint"), "complaint")],
        [(s.label("menu_consult"), "consult"), (s.label("menu_mine"), "mine")],
        [(s.label("menu_human"), "human")],
    ]
    paused = s.state.get("paused")
    if paused:
        rows.insert(0, [(s.label(f"resume_{paused['flow']}"), "resume")])
    rows.append([(s.label("menu_switch_unit"), "switch")])
    s.ask("menu", rows)


@ask_menu.on
async def on_menu(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "resume" and s.state.get("paused"):
        paused = s.state.pop("paused")
        s.state["d"] = paused["d"]
        s.set_step(paused["flow"], paused["step"])
        s.say("resumed")
        s.clear_choices()
        await STEPS[f"{paused['flow']}.{paused['step']}"].prompt(s)
        return
    if value in FLOW_START:
        s.state.pop("paused", None)
        s.reset_dialog()
        await goto(s, FLOW_START[value])
    elif value == "mine":
        await goto(s, "mine.list")
    elif value == "human":
        from . import handoff

        await handoff.request_human(s)
    elif value == "switch":
        s.reset_dialog()
        s.d["after"] = "menu"
        await goto(s, "id.contact")
