"""我的工单: the owner's own tickets (and their units'), newest first, paged; a detail view with
the history, where an open ticket can get more details or photos (补充) or be withdrawn (撤单).
Every ticket id comes back from the server-side list: a forged id shows nothing.

Who sees what rests on what is proven: a proven phone (a Telegram contact of one's own, an SMS
code on WeChat) adds the tickets reported from the person's other channels; a WeChat owner who
has not proven the phone sees only this account's tickets, and is offered to prove it here."""

from __future__ import annotations

from datetime import timedelta

from ..events import AlertAgents, Inbound, Reply
from ..ports import OPEN_STATUSES as OPEN
from ..session import Session
from ..steps import enter, goto, step
from .identify import SMS_CHANNELS, phone_unproven

PAGE = 5


def viewer(s: Session) -> tuple[int | None, str | None]:
    """(owner of record, proven phone) whose tickets this owner may see besides their own."""
    p = s.profile
    phone = p.get("phone") if p.get("phone_verified") else None
    if s.channel in SMS_CHANNELS and not (phone and p.get("identity_verified")):
        # on WeChat a unit typed step by step proves nobody: the owner's tickets only through
        # the registry's match of the proven phone
        return None, phone
    return p.get("owner_id"), phone


@step("mine.list", accepts={"choice"})
async def ask_list(s: Session) -> None:
    page = s.d.get("page", 0)
    owner_id, phone = viewer(s)
    items, total = await s.ports.tickets.visible(
        s.account_id, owner_id, page * PAGE, PAGE, verified_phone=phone
    )
    rows = [
        [
            (
                s.label("ticket_item", number=t.number, status=s.label(f"status_{t.status}")),
                f"t:{t.id}",
            )
        ]
        for t in items
    ]
    nav = []
    if page > 0:
        nav.append((s.label("page_prev"), "prev"))
    if (page + 1) * PAGE < total:
        nav.append((s.label("page_next"), "next"))
    if nav:
        rows.append(nav)
    if phone_unproven(s):
        rows.append([(s.label("mine_verify_phone"), "verify")])
        if page == 0:
            s.say("id_sms_mine_note")
    rows.append([(s.label("back_to_menu"), "menu")])
    pages = max(1, (total + PAGE - 1) // PAGE)
    s.ask("mine_list", rows, items=items, total=total, page=page + 1, pages=pages)


@ask_list.on
async def on_list(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "menu":
        await enter(s, "menu.show")
        return
    if value == "verify":
        await enter(s, "id.sms_later", back="mine.list")
        return
    if value in ("prev", "next"):
        s.d["page"] = max(0, s.d.get("page", 0) + (1 if value == "next" else -1))
        await goto(s, "mine.list")
        return
    s.d["ticket_id"] = int((value or "t:0").split(":", 1)[1])
    await goto(s, "mine.detail")


async def _ticket(s: Session):
    owner_id, phone = viewer(s)
    return await s.ports.tickets.get_visible(
        s.d.get("ticket_id", 0), s.account_id, owner_id, verified_phone=phone
    )


@step("mine.detail", accepts={"choice"})
async def ask_detail(s: Session) -> None:
    t = await _ticket(s)
    if t is None:
        s.say("mine_not_found")
        await goto(s, "mine.list")
        return
    rows = []
    if t.status in OPEN:
        rows.append([(s.label("ticket_urge"), "urge"), (s.label("ticket_add"), "add")])
        rows.append([(s.label("ticket_withdraw"), "withdraw")])
    rows.append([(s.label("back_to_list"), "list"), (s.label("back_to_menu"), "menu")])
    s.ask("mine_detail", rows, t=t, open=t.status in OPEN)


@ask_detail.on
async def on_detail(s: Session, ev: Inbound, value: str | None) -> None:
    t = await _ticket(s)
    if value == "menu":
        await enter(s, "menu.show")
    elif value == "list" or t is None:
        await goto(s, "mine.list")
    elif t.status not in OPEN:
        # the ticket moved on since the buttons were shown: say so, show it as it is now
        s.say("mine_no_longer_open", t=t)
        await goto(s, "mine.detail")
    elif value == "add":
        await goto(s, "mine.add")
    elif value == "urge":
        await _urge(s, t)
    elif value == "withdraw":
        await goto(s, "mine.withdraw")


@step("mine.add", accepts={"text", "photo", "choice"}, albums=True)
async def ask_add(s: Session) -> None:
    s.ask("mine_ask_add", [[(s.label("add_done"), "done")]], count=len(s.d.get("added", [])))


@ask_add.on
async def on_add(s: Session, ev: Inbound, value: str | None) -> None:
    t = await _ticket(s)
    if value == "done" or t is None:
        await goto(s, "mine.detail")
        return
    attachments = [{"kind": "photo", "file_id": ev.file_id}] if ev.kind == "photo" else []
    await s.ports.tickets.add_details(t.id, ev.text.strip(), attachments, s.now())
    s.durable = True
    s.d.setdefault("added", []).append(ev.kind)
    if not (ev.album_id and ev.album_id == s.d.get("album")):
        s.d["album"] = ev.album_id
        s.say("mine_added", t=t, photo=ev.kind == "photo")
        await ask_add(s)


@step("mine.withdraw", accepts={"choice"})
async def ask_withdraw(s: Session) -> None:
    t = await _ticket(s)
    s.ask(
        "mine_ask_withdraw",
        [[(s.label("withdraw_yes"), "yes"), (s.label("withdraw_no"), "no")]],
        number=t.number if t else "",
    )


@ask_withdraw.on
async def on_withdraw(s: Session, ev: Inbound, value: str | None) -> None:
    t = await _ticket(s)
    if value == "yes" and t is not None and await s.ports.tickets.withdraw(t.id, s.now()):
        s.durable = True
        s.say("mine_withdrawn", number=t.number)
        s.effect(AlertAgents(_withdrawn_note(s, t), ticket_id=t.id))
    await goto(s, "mine.detail")


def _withdrawn_note(s: Session, t) -> Reply:
    return Reply(
        "agent_ticket_withdrawn",
        {"number": t.number, "salutation": s.profile.get("salutation", "")},
    )


async def _urge(s: Session, t) -> None:
    """催办: the handler (or the group when untaken) is alerted; a second 催办 on an overdue
    ticket goes up to the supervisors; at most once per interval, with a polite answer either way."""
    res = await s.ports.tickets.urge(t.id, s.now(), s.policy.urge_interval_minutes)
    # a 催办 is itself a promise: the owner and the agents are told the same reply time
    minutes = (
        s.policy.escalation_reply_hours * 60
        if res.outcome == "escalated"
        else s.policy.urge_interval_minutes
    )
    reply_by = s.now() + timedelta(minutes=minutes)
    s.say(f"mine_urge_{res.outcome}", t=t, res=res, reply_by=reply_by)
    if res.outcome in ("sent", "escalated"):
        s.durable = True
        note = Reply(
            "agent_urge",
            {
                "t": t,
                "res": res,
                "salutation": s.profile.get("salutation", ""),
                "now": s.now(),
                "reply_by": reply_by,
            },
        )
        s.effect(
            AlertAgents(
                note, ticket_id=t.id, purpose="urge", supervisors=res.outcome == "escalated"
            )
        )
    await goto(s, "mine.detail")
