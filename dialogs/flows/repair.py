"""报修: where, what, the owner's words and photos, urgency, a time slot; then readback
(复述确认, DOMAIN.md) and only on 确认 a ticket. Gas and a person trapped in an elevator are the
exception: safety advice and an urgent ticket at once, the readback afterwards."""

from __future__ import annotations

from ..events import Inbound
from ..session import Session
from ..steps import goto, step
from . import filing, menu

SLOTS = ("asap", "today_pm", "today_eve", "tomorrow_am", "tomorrow_pm")
EDITABLE = {
    "where": ("place", "area", "pub_building", "pub_floor", "pub_spot"),
    "category": ("category",),
    "description": ("description", "photos_done"),
    "urgency": ("urgent",),
    "slot": ("slot",),
}


def _missing_step(d: dict) -> str | None:
    if "place" not in d:
        return "repair.where"
    if d["place"] == "public":
        for key, st in (("pub_building", "repair.pub_building"), ("pub_floor", "repair.pub_floor"),
                        ("pub_spot", "repair.pub_spot")):
            if key not in d:
                return st
    if "category" not in d:
        return "repair.category"
    if "description" not in d:
        return "repair.description"
    if not d.get("photos_done"):
        return "repair.photos"
    if "urgent" not in d:
        return "repair.urgency"
    if d["place"] == "home" and "slot" not in d:
        return "repair.slot"
    return None


async def advance(s: Session) -> None:
    """Ask for the first thing still missing; with everything given, read it all back."""
    await goto(s, _missing_step(s.d) or "repair.readback")


def location_text(s: Session) -> str:
    d = s.d
    if d.get("place") == "public":
        return f"{d.get('pub_building', '')}栋{d.get('pub_floor', '')}{d.get('pub_spot', '')}"
    return d.get("area", "")


def _emergency_cue(s: Session, *texts: str) -> str | None:
    if s.has_cue("gas", *texts):
        return "gas"
    if s.has_cue("trapped", *texts):
        return "trapped"
    return None


async def emergency(s: Session, kind: str) -> None:
    """Safety first, then an urgent ticket with what is known; the readback completes it later."""
    d = s.d
    d["urgent"] = True
    d["emergency"] = kind
    d["slot"] = "asap"
    if kind == "gas":
        d.setdefault("category", "gas")
        d.setdefault("place", "home")
        d.setdefault("area", "")
    else:
        d.setdefault("category", "elevator")
        if "place" not in d:
            d.update(place="public", pub_building=s.profile["unit"]["building"], pub_floor="",
                     pub_spot="电梯")
        d.setdefault("pub_building", s.profile["unit"]["building"])
        d.setdefault("pub_floor", "")
        d.setdefault("pub_spot", "电梯")
    s.say(f"emergency_{kind}_advice")
    if d.get("ticket_id"):
        return
    draft = _draft(s)
    ticket = await filing.file_ticket(s, draft)
    d["ticket_id"] = ticket.id
    d["ticket_number"] = ticket.number
    s.say("emergency_ticket_created", ticket=ticket, department=draft.department,
          unit_label=draft.unit_label)


def _draft(s: Session):
    d = s.d
    return filing.build_draft(
        s,
        kind="repair",
        category=d.get("category"),
        urgent=bool(d.get("urgent")),
        description=d.get("description", ""),
        location=location_text(s),
        time_slot=d.get("slot", ""),
        details={"place": d.get("place"), "slot_label": _slot_label(s, d.get("slot"))},
        emergency=bool(d.get("emergency")),
    )


def _slot_label(s: Session, slot: str | None) -> str:
    return s.label(f"slot_{slot}") if slot else ""


async def intercept(s: Session, ev: Inbound) -> bool:
    """Typed words of gas or someone trapped, at any repair step, go straight to the emergency."""
    if ev.kind != "text" or s.d.get("emergency"):
        return False
    kind = _emergency_cue(s, ev.text)
    if kind is None:
        return False
    if s.state["step"] in ("description",):
        return False  # the description step records the words first, then raises the alarm
    s.d.setdefault("description", ev.text)
    await emergency(s, kind)
    await advance(s)
    return True


# --- where --------------------------------------------------------------------------------------
@step("repair.where", accepts={"choice"})
async def ask_where(s: Session) -> None:
    areas = [(a, f"home:{a}") for a in s.policy.home_locations]
    rows = [areas[i : i + 3] for i in range(0, len(areas), 3)]
    rows.append([(s.label("repair_public_area"), "public")])
    rows.append([(s.label("repair_emergency"), "emergency")])
    s.ask("repair_ask_where", rows, unit_label=s.profile["unit"]["label"])


@ask_where.on
async def on_where(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "emergency":
        await goto(s, "repair.emergency_kind")
        return
    for k in EDITABLE["where"]:
        s.d.pop(k, None)
    if value == "public":
        s.d["place"] = "public"
    else:
        s.d["place"] = "home"
        s.d["area"] = (value or "home:").split(":", 1)[1]
    await advance(s)


@step("repair.emergency_kind", accepts={"choice"})
async def ask_emergency_kind(s: Session) -> None:
    s.ask("repair_ask_emergency_kind", [[(s.label("emergency_gas"), "gas")],
                                        [(s.label("emergency_trapped"), "trapped")],
                                        [(s.label("emergency_neither"), "neither")]])


@ask_emergency_kind.on
async def on_emergency_kind(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "neither":
        await goto(s, "repair.where")
        return
    await emergency(s, value or "gas")
    await advance(s)


@step("repair.pub_building", accepts={"choice", "text"}, text_limit=20)
async def ask_pub_building(s: Session) -> None:
    own = s.profile["unit"]["building"]
    known = await s.ports.registry.buildings(s.profile["unit"].get("community", ""))
    ordered = [own] + [b for b in known if b != own]
    items = [(f"{b}栋", b) for b in ordered[:12]]
    s.ask("repair_ask_pub_building", [items[i : i + 4] for i in range(0, len(items), 4)])


@ask_pub_building.on
async def on_pub_building(s: Session, ev: Inbound, value: str | None) -> None:
    from ..units import clean_part

    s.d["pub_building"] = value if value is not None else clean_part(ev.text)
    await advance(s)


@step("repair.pub_floor", accepts={"text", "choice"}, text_limit=20)
async def ask_pub_floor(s: Session) -> None:
    s.ask("repair_ask_pub_floor", [[(s.label("floor_ground"), "1楼"), (s.label("floor_basement"), "地下"),
                                    (s.label("floor_every"), "各楼层")]])


@ask_pub_floor.on
async def on_pub_floor(s: Session, ev: Inbound, value: str | None) -> None:
    text = value if value is not None else ev.text.strip()
    if text.isdigit():
        text += "楼"
    s.d["pub_floor"] = text
    await advance(s)


@step("repair.pub_spot", accepts={"choice", "text"}, text_limit=40)
async def ask_pub_spot(s: Session) -> None:
    spots = [(sp, sp) for sp in s.policy.public_spots]
    s.ask("repair_ask_pub_spot", [spots[i : i + 3] for i in range(0, len(spots), 3)])


@ask_pub_spot.on
async def on_pub_spot(s: Session, ev: Inbound, value: str | None) -> None:
    s.d["pub_spot"] = value if value is not None else ev.text.strip()
    await advance(s)


# --- what -----------------------------------------------------------------------------------------
@step("repair.category", accepts={"choice"})
async def ask_category(s: Session) -> None:
    cats = [(c["label"], key) for key, c in s.policy.repair_categories.items()]
    s.ask("repair_ask_category", [cats[i : i + 3] for i in range(0, len(cats), 3)])


@ask_category.on
async def on_category(s: Session, ev: Inbound, value: str | None) -> None:
    s.d["category"] = value
    if s.policy.repair_categories.get(value or "", {}).get("emergency") and not s.d.get("emergency"):
        await emergency(s, "gas")
    await advance(s)


@step("repair.description", accepts={"text", "photo"})
async def ask_description(s: Session) -> None:
    s.ask("repair_ask_description", [], category_label=s.policy.category_label(
        "repair", s.d.get("category")))


@ask_description.on
async def on_description(s: Session, ev: Inbound, value: str | None) -> None:
    if ev.kind == "photo":
        s.d.setdefault("attachments", []).append({"kind": "photo", "file_id": ev.file_id})
        s.d["description"] = ev.text.strip()
        if ev.album_id:
            s.d["album"] = ev.album_id
    else:
        s.d["description"] = ev.text.strip()
    kind = _emergency_cue(s, s.d["description"])
    if kind and not s.d.get("emergency"):
        await emergency(s, kind)
    await advance(s)


@step("repair.photos", accepts={"photo", "choice", "text"})
async def ask_photos(s: Session) -> None:
    n = sum(1 for a in s.d.get("attachments", []) if a["kind"] == "photo")
    label = "photos_continue" if n else "photos_skip"
    s.ask("repair_ask_photos", [[(s.label(label), "done")]], count=n)


@ask_photos.on
async def on_photos(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "done":
        s.d["photos_done"] = True
        await advance(s)
        return
    if ev.kind == "photo":
        s.d.setdefault("attachments", []).append({"kind": "photo", "file_id": ev.file_id})
        if ev.album_id:
            s.d["album"] = ev.album_id
        if ev.text.strip():
            s.d["description"] = (s.d.get("description", "") + " " + ev.text.strip()).strip()
    else:
        # more words at the photo step belong to the description: nothing the owner says is lost
        s.d["description"] = (s.d.get("description", "") + " " + ev.text.strip()).strip()
        s.say("repair_description_added")
    await ask_photos(s)


@step("repair.urgency", accepts={"choice"})
async def ask_urgency(s: Session) -> None:
    d = s.d
    suggested = d.get("category") in ("gas",) or s.has_cue("urgent", d.get("description", ""))
    d["urgent_suggested"] = suggested
    urgent_btn = (s.label("urgency_urgent"), "urgent")
    normal_btn = (s.label("urgency_normal"), "normal")
    s.ask("repair_ask_urgency", [[urgent_btn, normal_btn] if suggested else [normal_btn, urgent_btn]],
          suggested=suggested)


@ask_urgency.on
async def on_urgency(s: Session, ev: Inbound, value: str | None) -> None:
    s.d["urgent"] = value == "urgent"
    s.d["urgent_chosen"] = True
    await advance(s)


@step("repair.slot", accepts={"choice", "text"}, text_limit=60)
async def ask_slot(s: Session) -> None:
    hour = s.local_now().hour
    slots = ["asap"]
    if hour < 12:
        slots.append("today_pm")
    if hour < 17:
        slots.append("today_eve")
    slots += ["tomorrow_am", "tomorrow_pm"]
    items = [(s.label(f"slot_{k}"), k) for k in slots]
    s.ask("repair_ask_slot", [items[:1], items[1:3], items[3:]])


@ask_slot.on
async def on_slot(s: Session, ev: Inbound, value: str | None) -> None:
    if value is None:
        # a time in the owner's own words ("周六上午10点") is kept as said
        s.d["slot"] = "custom"
        s.d["slot_text"] = ev.text.strip()
    else:
        s.d["slot"] = value
    await advance(s)


# --- readback -------------------------------------------------------------------------------------
@step("repair.readback", accepts={"choice"})
async def ask_readback(s: Session) -> None:
    d = s.d
    slot = d.get("slot_text") if d.get("slot") == "custom" else _slot_label(s, d.get("slot"))
    rows = [[(s.label("confirm"), "confirm"), (s.label("modify"), "modify")]]
    if not d.get("ticket_id"):
        rows[0].append((s.label("cancel"), "cancel"))
    s.ask(
        "repair_readback",
        rows,
        unit_label=s.profile["unit"]["label"],
        place=d.get("place"),
        location=location_text(s),
        category_label=s.policy.category_label("repair", d.get("category")),
        description=d.get("description", ""),
        photos=sum(1 for a in d.get("attachments", []) if a["kind"] == "photo"),
        urgent=bool(d.get("urgent")),
        slot=slot or "",
        ticket_number=d.get("ticket_number", ""),
    )


@ask_readback.on
async def on_readback(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "modify":
        await goto(s, "repair.edit")
        return
    if value == "cancel":
        s.say("repair_cancelled")
        s.reset_dialog()
        await menu.show_menu(s)
        return
    draft = _draft(s)
    if s.d.get("slot") == "custom":
        draft.time_slot = "custom"
        draft.details["slot_label"] = s.d.get("slot_text", "")
    if s.d.get("ticket_id"):
        ticket = await s.ports.tickets.complete_emergency(s.d["ticket_id"], draft, s.now())
        s.durable = True
        if ticket is not None:
            filing.agent_card(s, ticket, draft, update=True)
            s.say("emergency_completed", ticket=ticket)
    else:
        ticket = await filing.file_ticket(s, draft)
        advice = s.policy.repair_categories.get(draft.category or "", {}).get("advice", "")
        s.say(
            "repair_created",
            ticket=ticket,
            department=draft.department,
            unit_label=draft.unit_label,
            location=location_text(s),
            category_label=s.policy.category_label("repair", draft.category),
            urgent=draft.urgent,
            slot=draft.details.get("slot_label", ""),
            advice=advice,
            unit_verified=draft.unit_verified,
        )
    s.reset_dialog()
    await menu.show_menu(s)


@step("repair.edit", accepts={"choice"})
async def ask_edit(s: Session) -> None:
    rows = [[(s.label("edit_where"), "where"), (s.label("edit_category"), "category")],
            [(s.label("edit_description"), "description"), (s.label("edit_urgency"), "urgency")]]
    if s.d.get("place") == "home":
        rows[1].append((s.label("edit_slot"), "slot"))
    rows.append([(s.label("back_to_readback"), "back")])
    s.ask("repair_ask_edit", rows)


@ask_edit.on
async def on_edit(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "back":
        await goto(s, "repair.readback")
        return
    if value == "description":
        # keep the photos already sent; only the words are asked again
        s.d.pop("description", None)
        s.d["photos_done"] = True
        await goto(s, "repair.description")
        return
    if s.d.get("emergency") and value in ("urgency", "category"):
        s.say("emergency_stays_urgent")
        await goto(s, "repair.readback")
        return
    for k in EDITABLE.get(value or "", ()):
        s.d.pop(k, None)
    await advance(s)
