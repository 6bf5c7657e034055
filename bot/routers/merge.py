"""/merge and /split in the agents' group (one fault, one ticket, issue 12). A supervisor merges
two tickets of the same fault (`/merge BX-… BX-…`: the second one's owners follow the first,
the second is closed as merged), or splits an owner wrongly merged back out (`/split BX-… 陈女士`
or a phone tail or an account id: they get a ticket of their own and its number). Thin: the
words become tickets and the owners who hear of them, the core decides (desk/merge.py), the
one writer carries it out (bot/desk/apply.py), the unit-of-work middleware commits. Included
before the agents' router, which would otherwise take every command."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from desk import effects as fx
from desk import merge as merging
from desk.model import Actor
from dialogs.flows.filing import PREFIX
from dialogs.state import profile_of
from storage.models import Ticket
from storage.uow import UnitOfWork

from ..desk import cards
from ..desk.apply import apply
from ..desk.casefile import agent_actor, case_of
from ..desk.context import Desk
from ..desk.service import rules
from ..unit_of_work import UnitOfWorkMiddleware


async def _actor(message: Message, desk: Desk, uow: UnitOfWork) -> Actor | None:
    user = message.from_user
    agent = await uow.staff.agent_by_telegram(user.id) if user and not user.is_bot else None
    if agent is None:
        await desk.to_agents(uow, "agent_not_roster", {})
        return None
    return agent_actor(agent)


async def _supervisors(uow: UnitOfWork) -> list[str]:
    return [s.name for s in await uow.staff.supervisors()]


async def _tickets(uow: UnitOfWork, *numbers: str) -> list[Ticket]:
    """The named tickets, each re-read under its lock, in id order (two supervisors merging
    the same pair at once are judged one after the other, never deadlocked)."""
    ids = []
    for number in numbers:
        ticket_id = await uow.cases.id_of(number)
        if ticket_id is None:
            raise merging.MergeRefused("not_found", number=number)
        ids.append(ticket_id)
    locked = {i: await uow.cases.ticket(i) for i in sorted(set(ids))}
    return [locked[i] for i in ids]


async def reporters(uow: UnitOfWork, t: Ticket) -> list[merging.Reporter]:
    """Who hears of the ticket: its reporter, then the owners who joined, as they identified."""
    details = t.details or {}
    out = [
        merging.Reporter(
            t.reporter_account_id,
            t.owner_id if details.get("reporter_role", "owner") == "owner" else None,
            details.get("salutation", ""),
            t.contact_phone,
            reporter=True,
        )
    ]
    for sub in await uow.cases.subscribers(t.id):
        conv = await uow.accounts.conversation(sub.account_id)
        raw = (conv.state if conv else None) or {}
        p = raw.get("profile") or {}
        account = await uow.accounts.account(sub.account_id)
        out.append(
            merging.Reporter(
                sub.account_id,
                sub.owner_id,
                profile_of(raw).salutation,
                p.get("phone") or (account.phone if account else ""),
                role=p.get("role", "owner"),
                identity_verified=bool(p.get("identity_verified")),
                unit=dict(p.get("unit") or {}),
            )
        )
    return out


async def merge_tickets(desk: Desk, uow: UnitOfWork, actor: Actor, args: list[str]) -> None:
    merging.may_merge(actor, await _supervisors(uow))
    if len(args) != 2:
        raise merging.MergeRefused("usage")
    keep, gone = await _tickets(uow, *args)
    on_keep, on_gone = merging.merge(
        actor,
        await case_of(uow, keep),
        await case_of(uow, gone),
        await reporters(uow, keep),
        await reporters(uow, gone),
    )
    await apply(desk, uow, gone, on_gone)  # its owners move first: the kept card counts them
    await apply(desk, uow, keep, on_keep)


async def split_out(desk: Desk, uow: UnitOfWork, actor: Actor, args: list[str]) -> None:
    merging.may_merge(actor, await _supervisors(uow))
    if len(args) < 2:
        raise merging.MergeRefused("usage")
    (t,) = await _tickets(uow, args[0])
    target = merging.pick(t.number, await reporters(uow, t), " ".join(args[1:]))
    fault = merging.Fault(
        t.number,
        t.kind,
        t.category,
        t.department,
        t.urgent,
        t.description,
        t.location,
        dict(t.details or {}),
    )
    r = rules(desk)
    draft = merging.split_draft(fault, target, desk.policy, r.local)
    view = await uow.tickets.create(draft, r.now, f"{PREFIX[t.kind]}-{r.local:%Y%m%d}")
    new = await uow.cases.ticket(view.id)
    await uow.cases.event(new, r.now, "agent", actor.id, "split_from", None, None, t.number)
    await cards.post_card(desk, uow, new)
    told = {
        "ticket": view,
        "was": t.number,
        "location": t.location,
        "category_label": desk.policy.category_label(t.kind, t.category),
    }
    await apply(
        desk, uow, new, [fx.ToOwner("owner_ticket_split", told, account_id=target.account_id)]
    )
    await apply(desk, uow, t, merging.split(actor, await case_of(uow, t), target, view.number))


async def on_command(message: Message, command: CommandObject, desk: Desk, uow: UnitOfWork):
    actor = await _actor(message, desk, uow)
    if actor is None:
        return
    act = merge_tickets if command.command == "merge" else split_out
    try:
        await act(desk, uow, actor, (command.args or "").split())
    except merging.MergeRefused as refused:
        # nothing was written before a refusal: the decision comes before every write
        await desk.to_agents(uow, "agent_merge_refused", refused.context)


def make_router(agent_chat_id: int | str) -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.id == int(agent_chat_id))
    router.message.middleware(UnitOfWorkMiddleware())
    router.message.register(on_command, Command("merge", "split"))
    return router
