"""One fault, one ticket (issue 12), by hand: a supervisor merges two tickets of the same fault
(the second one's owners follow the first, the second is closed as merged), or splits an owner
who was wrongly merged back out (they get a ticket of their own). Pure decisions: who may, who
moves, what each ticket's history and card say, and the new ticket's promise. The edge
(bot/routers/merge.py) reads the tickets; the one writer (bot/desk/apply.py) carries it out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dialogs.policy import Policy
from dialogs.ports import TicketDraft

from .effects import (
    CardChanged,
    Effect,
    FollowUpsCancelled,
    Moved,
    Noted,
    SlaCleared,
    ToAgents,
    ToOwner,
)
from .model import Actor, Case
from .sla import OPEN, SLA_KINDS


@dataclass(frozen=True, slots=True)
class Reporter:
    """An owner who hears of a ticket: its reporter, or one who reported the same fault since."""

    account_id: int
    owner_id: int | None = None
    salutation: str = ""
    phone: str = ""  # the contact phone of a split ticket; only its tail is ever shown
    reporter: bool = False
    # the owner's profile as they identified: role, identity_verified, their unit
    role: str = "owner"
    identity_verified: bool = False
    unit: dict[str, Any] = field(default_factory=dict)

    @property
    def phone_tail(self) -> str:
        return self.phone[-4:]


@dataclass(frozen=True, slots=True)
class Fault:
    """What a split copies from the ticket: the fault as it was reported."""

    number: str
    kind: str
    category: str | None
    department: str
    urgent: bool
    description: str
    location: str
    details: dict[str, Any]


# --- effects only merging causes (bot/desk/apply.py writes them) ---------------------------------
@dataclass(frozen=True, slots=True)
class ReportersMoved:
    """The merged ticket's owners follow `into`; the merged ticket has no followers left."""

    into: int
    reporters: tuple[Reporter, ...]


@dataclass(frozen=True, slots=True)
class MarkedMerged:
    into: int


@dataclass(frozen=True, slots=True)
class SubscriberDropped:
    account_id: int


class MergeRefused(Exception):
    """Why not, for agent_merge_refused.j2 (`refusal` and what it names)."""

    def __init__(self, refusal: str, **context: Any):
        super().__init__(refusal)
        self.context = {"refusal": refusal, **context}


def may_merge(actor: Actor, supervisors: Sequence[str] = ()) -> None:
    """Merging and splitting change who hears of a ticket: supervisors only."""
    if not actor.supervisor:
        raise MergeRefused("supervisor_only", supervisors=list(supervisors))


def merge(
    actor: Actor,
    keep: Case,
    gone: Case,
    keep_reporters: Sequence[Reporter],
    gone_reporters: Sequence[Reporter],
) -> tuple[list[Effect], list[Effect]]:
    """The effects on the ticket kept and on the one merged into it, in that order of writing:
    the merged one first (its owners move), then the kept one (its card counts them)."""
    if keep.id == gone.id:
        raise MergeRefused("same_ticket")
    for case in (keep, gone):
        if case.status not in OPEN:
            raise MergeRefused("not_open", number=case.number, status=case.status)
    hearing = {r.account_id for r in keep_reporters}
    moving = tuple(r for r in gone_reporters if r.account_id not in hearing)
    told = {"number": gone.number, "into": keep.number}
    on_gone: list[Effect] = [
        ReportersMoved(keep.id, moving),
        MarkedMerged(keep.id),
        Moved("merged", "closed", actor, note=keep.number),
        FollowUpsCancelled((*SLA_KINDS, "survey")),
        SlaCleared(),
        CardChanged(),
        *(
            ToOwner("owner_ticket_merged", told, account_id=r.account_id, about_ticket=False)
            for r in gone_reporters
        ),
    ]
    on_keep: list[Effect] = [
        Noted("merged_in", actor, note=gone.number),
        CardChanged(),
        ToAgents(
            "agent_merged",
            {
                **told,
                "agent": actor.name,
                "moved": len(moving),
                "reporters": len(keep_reporters) + len(moving),
            },
        ),
    ]
    return on_keep, on_gone


def pick(number: str, reporters: Sequence[Reporter], who: str) -> Reporter:
    """The owner `/split` names: an account id, a phone tail (4 digits or more), a salutation
    (陈女士) or a surname (陈). Only an owner who joined later can be split out."""
    token = who.strip()
    later = [r for r in reporters if not r.reporter]

    def named(r: Reporter) -> bool:
        if token.isdigit():
            return token == str(r.account_id) or (len(token) >= 4 and r.phone.endswith(token))
        return bool(token) and bool(r.salutation) and r.salutation.startswith(token)

    found = [r for r in reporters if named(r)]
    chosen = [r for r in found if not r.reporter]
    if len(chosen) == 1:
        return chosen[0]
    if not chosen and found:
        raise MergeRefused("reporter", number=number, who=found[0].salutation or token)
    refusal = "ambiguous" if chosen else "nobody"
    raise MergeRefused(refusal, number=number, who=token, candidates=chosen or later)


def split(actor: Actor, case: Case, target: Reporter, new_number: str) -> list[Effect]:
    """On the ticket the owner leaves: they no longer hear of it, its card counts one fewer."""
    return [
        SubscriberDropped(target.account_id),
        Noted("split", actor, note=new_number),
        CardChanged(),
        ToAgents(
            "agent_split_done",
            {
                "number": case.number,
                "new_number": new_number,
                "who": target.salutation or target.phone_tail,
                "agent": actor.name,
            },
        ),
    ]


def split_draft(fault: Fault, who: Reporter, policy: Policy, local_now: datetime) -> TicketDraft:
    """The owner's own ticket: the same fault and words, promised and watched afresh."""
    promise = policy.promise(fault.kind, fault.category, fault.urgent, local_now)
    sla = policy.followups.sla(
        kind=fault.kind,
        urgent=fault.urgent,
        local_created=local_now,
        contact_by=promise.contact_by,
        arrive_by=promise.arrive_by,
    )
    unit = who.unit or {}
    return TicketDraft(
        kind=fault.kind,
        category=fault.category,
        department=fault.department,
        urgent=fault.urgent,
        description=fault.description,
        location=fault.location,
        reporter_account_id=who.account_id,
        owner_id=who.owner_id,
        contact_phone=who.phone,
        unit_id=unit.get("unit_id"),
        unit_label=unit.get("label", ""),
        unit_verified=bool(unit.get("verified")),
        promised_contact_by=promise.contact_by,
        promised_arrive_by=promise.arrive_by,
        details={
            **{k: v for k, v in fault.details.items() if k not in ("slot_label", "slot_window")},
            "reporter_role": who.role,
            "salutation": who.salutation,
            "identity_verified": who.identity_verified,
            "split_from": fault.number,
        },
        followups=[(d.kind, d.at, d.urgent, d.data or {}) for d in sla],
    )
