"""报修: where, what, the owner's words and photos, urgency, a time slot, one question at a time;
then the readback (repair_readback.py). Emergencies: repair_emergency.py."""

from __future__ import annotations

from .. import slots
from ..events import Inbound
from ..session import Session
from ..steps import enter, goto, step
from ..units import WORDS, building_label, floor_label
from .notice_check import notice_first
from .repair_common import EDITABLE, advance
from .repair_emergency import kind_of_category
from .repair_same_fault import ask_same_fault  # noqa: F401  (one fault, one ticket: its step)


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


@step("repair.pub_building", accepts={"choice", "text"}, text_limit=20)
async def ask_pub_building(s: Session) -> None:
    own = s.profile["unit"]["building"]
    known = await s.ports.registry.buildings(s.profile["unit"].get("community", ""))
    ordered = [own] + [b for b in known if b != own]
    items = [(building_label(b), b) for b in ordered[:12]]
    s.ask("repair_ask_pub_building", [items[i : i + 4] for i in range(0, len(items), 4)])


@ask_pub_building.on
async def on_pub_building(s: Session, ev: Inbound, value: str | None) -> None:
    from ..units import clean_part

    s.d["pub_building"] = value if value is not None else clean_part(ev.text)
    await advance(s)


@step("repair.pub_floor", accepts={"text", "choice"}, text_limit=20)
async def ask_pub_floor(s: Session) -> None:
    s.ask(
        "repair_ask_pub_floor",
        [[(s.label(key), value) for key, value in WORDS["floor_shortcuts"].items()]],
    )


@ask_pub_floor.on
async def on_pub_floor(s: Session, ev: Inbound, value: str | None) -> None:
    text = value if value is not None else ev.text.strip()
    if text.isdigit():
        text = floor_label(text)
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
    if s.policy.repair_categories.get(value or "", {}).get("emergency"):
        await enter(s, "emergency.raise", kind=kind_of_category(s, value) or "gas")
        return
    # an outage announced for the owner's building is told first (公告, notice_check.py)
    if await notice_first(s):
        return
    await advance(s)


@step("repair.description", accepts={"text", "photo"})
async def ask_description(s: Session) -> None:
    category = s.policy.repair_categories.get(s.d.get("category") or "", {})
    s.ask(
        "repair_ask_description",
        [],
        category_label=s.policy.category_label("repair", s.d.get("category")),
        # the example fits the category (never a dripping pipe for a lift)
        example=category.get("example", ""),
    )


@ask_description.on
async def on_description(s: Session, ev: Inbound, value: str | None) -> None:
    if ev.kind == "photo":
        s.d.setdefault("attachments", []).append({"kind": "photo", "file_id": ev.file_id})
        s.d["description"] = ev.text.strip()
        if ev.album_id:
            s.d["album"] = ev.album_id
    else:
        s.d["description"] = ev.text.strip()
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
    suggested = s.has_cue("urgent", d.get("description", ""))
    d["urgent_suggested"] = suggested
    # buttons keep their order whatever is suggested (一般, then 紧急); the suggestion is said in
    # words and marked on its button, never moved
    urgent_label = s.label("urgency_urgent")
    if suggested:
        urgent_label = s.label("suggested_mark", label=urgent_label)
    s.ask(
        "repair_ask_urgency",
        [[(s.label("urgency_normal"), "normal"), (urgent_label, "urgent")]],
        suggested=suggested,
    )


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
    s.d.pop("slot_window", None)
    if value is None:
        # a time in the owner's own words ("周六上午10点") is kept as said, and read as a window
        # when it names a day and a time of day; otherwise the agent agrees it on the phone
        s.d["slot"] = "custom"
        s.d["slot_text"] = ev.text.strip()
        window = slots.parse(ev.text, s.local_now(), s.policy.slots.get("named_hour_window", 60))
    else:
        s.d["slot"] = value
        s.d.pop("slot_text", None)
        window = slots.for_button(value, s.local_now(), s.policy.slots)
    if window is not None:
        s.d["slot_window"] = window.as_dict()
    await advance(s)


# --- readback -------------------------------------------------------------------------------------
