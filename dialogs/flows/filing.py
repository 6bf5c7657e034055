"""Turning a finished dialog into a ticket: promised times from the policy, the attachments the
owner sent along the way, and word to the agents' side that the ticket is there (the side that
shows the card renders it from the ticket as stored: one card, one truth)."""

from __future__ import annotations

from typing import Any

from ..events import TicketChanged, TicketFiled
from ..ports import TicketDraft, TicketView
from ..session import Session
from ..slots import Window
from .identify import phone_unproven

PREFIX = {"repair": "BX", "complaint": "TS", "consult": "ZX"}


def build_draft(
    s: Session,
    *,
    kind: str,
    category: str | None,
    urgent: bool,
    description: str,
    location: str,
    time_slot: str = "",
    details: dict[str, Any] | None = None,
    emergency: bool = False,
    window: Window | None = None,
) -> TicketDraft:
    p = s.profile
    unit = p.get("unit") or {}
    promise = s.policy.promise(kind, category, urgent, s.local_now(), window)
    attachments = list(s.d.get("attachments", [])) + list(s.state.pending_attachments)
    # SLA: each promise (contact, arrival, completion) reminded at 80% and alerted when missed
    sla = s.policy.followups.sla(
        kind=kind,
        urgent=urgent,
        local_created=s.local_now(),
        contact_by=promise.contact_by,
        arrive_by=promise.arrive_by,
    )
    details = dict(details or {})
    if window is not None:
        details["slot_window"] = window.as_dict()
    details["earlier_than_slot"] = promise.earlier_than_slot
    return TicketDraft(
        followups=[(d.kind, d.at, d.urgent, d.data or {}) for d in sla]
        if kind != "consult"
        else [],
        kind=kind,
        category=category,
        department=s.policy.department(kind, category),
        urgent=urgent,
        description=description,
        location=location,
        reporter_account_id=s.account_id,
        owner_id=p.get("owner_id") or p.get("unit_owner_id"),
        contact_phone=p.get("phone", ""),
        unit_id=unit.get("unit_id"),
        unit_label=unit.get("label", ""),
        unit_verified=bool(unit.get("verified")),
        # a WeChat owner who has not typed the SMS code back may report: the agents see it
        reporter_verified=not phone_unproven(s),
        promised_contact_by=promise.contact_by,
        promised_arrive_by=promise.arrive_by,
        time_slot=time_slot,
        attachments=attachments,
        details={
            "reporter_role": p.get("role", "owner"),
            "salutation": p.get("salutation", ""),
            "identity_verified": bool(p.get("identity_verified")),
            **details,
        },
        emergency=emergency,
    )


async def file_ticket(s: Session, draft: TicketDraft) -> TicketView:
    """Create the ticket in this unit of work; the confirmation and the card go via the outbox."""
    day = s.local_now().strftime("%Y%m%d")
    ticket = await s.ports.tickets.create(draft, s.now(), f"{PREFIX[draft.kind]}-{day}")
    s.state.pending_attachments = []
    s.d.pop("attachments", None)
    s.durable = True
    s.effect(TicketFiled(ticket.id))
    return ticket


def ticket_changed(s: Session, ticket: TicketView) -> None:
    """The owner completed a ticket already filed: the agents' card is redrawn."""
    s.durable = True
    s.effect(TicketChanged(ticket.id))
