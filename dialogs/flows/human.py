"""The owner talking to a person: the bot stops answering and relays every message (text, photo,
album, voice, contact, sticker) to the agents' group; nothing the owner sends is dropped.
waiting: nobody has taken the request yet (the owner may stop waiting); active: an agent has."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..events import HandoffClosed, Inbound, RelayToAgents, Takeover
from ..session import Session
from ..steps import enter, entry, give_way, on_event, step


@on_event("takeover")
async def on_takeover(s: Session, ev: Inbound) -> None:
    """An agent takes the conversation (from the queue, or on a ticket): the bot stops answering
    and a dialog under way is put aside for after."""
    assert isinstance(ev.detail, Takeover)
    await give_way(s, ev)  # the survey's comment is not awaited while a person talks
    s.state.pause()
    s.clear_choices()
    s.set_step("human", "active")
    s.state.data = {
        "handoff_id": ev.detail.handoff_id,
        "agent": ev.detail.agent,
        "ticket_number": ev.detail.ticket_number,
    }


@on_event("release")
async def on_release(s: Session, ev: Inbound) -> None:
    """结束接管: back to the bot and the menu (a dialog put aside is offered to resume)."""
    s.set_step("start", "new")
    s.reset_dialog()
    s.clear_choices()
    await enter(s, "menu.show")


@step("human.waiting", accepts={"choice"}, raw=True)
async def ask_waiting(s: Session) -> None:
    s.ask(
        "handoff_waiting",
        [[(s.label("handoff_stop_waiting"), "stop")]],
        minutes=s.policy.handoff_reply_minutes,
    )


@ask_waiting.on
async def on_waiting(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "stop":
        await end_by_owner(s)
        return
    _relay(s, ev)
    # every message is acknowledged, with the time a person will answer (promises carry a time)
    s.say("handoff_relayed_while_waiting", reply_by=_reply_by(s), first=not s.d.get("acked"))
    s.d["acked"] = True


def _reply_by(s: Session) -> datetime:
    minutes = timedelta(minutes=s.policy.handoff_reply_minutes)
    since = datetime.fromisoformat(s.d["since"]) if s.d.get("since") else s.now()
    # past the first promise: the next honest time is a fresh wait from now
    return since + minutes if since + minutes > s.now() else s.now() + minutes


@step("human.active", accepts=set(), raw=True)
async def active(s: Session) -> None:
    s.say("handoff_active", agent=s.d.get("agent", ""))


@active.on
async def on_active(s: Session, ev: Inbound, value: str | None) -> None:
    _relay(s, ev)


def _relay(s: Session, ev: Inbound) -> None:
    first_of_album = not (ev.album_id and ev.album_id == s.d.get("album"))
    if ev.album_id:
        s.d["album"] = ev.album_id
    s.effect(
        RelayToAgents(
            handoff_id=s.d.get("handoff_id"),
            message_id=ev.message_id,
            kind=ev.kind,
            text=ev.text,
            file_id=ev.file_id,
            phone=ev.phone,
            header=first_of_album,
            salutation=s.profile.get("salutation", ""),
            unit_label=(s.profile.get("unit") or {}).get("label", ""),
            ticket_number=s.d.get("ticket_number", ""),
        )
    )
    s.durable = True


@entry("human.leave")
async def end_by_owner(s: Session) -> None:
    """The owner leaves (/cancel, /menu, 不等了): a queue nobody answered is cancelled as such,
    never called the end of a service nobody gave."""
    served = s.state.step == "active"
    handoff_id = s.d.get("handoff_id")
    if handoff_id:
        await s.ports.handoffs.close(handoff_id, s.now())
        s.effect(HandoffClosed(handoff_id, by="owner", salutation=s.profile.get("salutation", "")))
        s.durable = True
    s.say("handoff_ended_by_owner" if served else "handoff_queue_left")
    s.reset_dialog()
    await enter(s, "menu.show")
