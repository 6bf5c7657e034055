"""What the repair steps share: the order in which the record is filled, its location text and
the ticket draft made from it."""

from __future__ import annotations

from ..session import Session
from ..slots import Window
from ..steps import goto
from ..units import building_label
from . import filing

# sentence ends stripped from the owner's words before they are read back inside a sentence
END_PUNCTUATION = "\u3002\uff01\uff1f\uff1b\uff0c.!?;, ~\uff5e"

# "same_fault": the check for an open ticket of the same public fault (repair_same_fault.py),
# made again when the place or the category changes
EDITABLE = {
    "where": ("place", "area", "pub_building", "pub_floor", "pub_spot", "same_fault"),
    "category": ("category", "same_fault"),
    "description": ("description", "photos_done"),
    "urgency": ("urgent",),
    "slot": ("slot", "slot_text", "slot_window"),
}


def _missing_step(d: dict) -> str | None:
    if "place" not in d:
        return "repair.where"
    if d["place"] == "public":
        for key, st in (
            ("pub_building", "repair.pub_building"),
            ("pub_floor", "repair.pub_floor"),
            ("pub_spot", "repair.pub_spot"),
        ):
            if key not in d:
                return st
    if "category" not in d:
        return "repair.category"
    if d["place"] == "public" and "same_fault" not in d and not d.get("ticket_id"):
        return "repair.same_fault"
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
        building = building_label(d["pub_building"]) if d.get("pub_building") else ""
        return f"{building}{d.get('pub_floor', '')}{d.get('pub_spot', '')}"
    return d.get("area", "")


def draft(s: Session):
    d = s.d
    return filing.build_draft(
        s,
        kind="repair",
        category=d.get("category"),
        urgent=bool(d.get("urgent")),
        description=d.get("description", ""),
        location=location_text(s),
        time_slot=d.get("slot", ""),
        details={
            "place": d.get("place"),
            "slot_label": slot_label(s, d.get("slot")),
            **public_place(s),
        },
        emergency=bool(d.get("emergency")),
        window=Window.from_dict(d.get("slot_window")),
    )


def public_place(s: Session) -> dict[str, str]:
    """Where a public fault is, as the next owner's report of it is matched (one fault, one
    ticket): the community, the building and the spot (the floor is said, not matched)."""
    d = s.d
    if d.get("place") != "public":
        return {}
    return {
        "community": (s.profile.get("unit") or {}).get("community", ""),
        "pub_building": d.get("pub_building", ""),
        "pub_floor": d.get("pub_floor", ""),
        "pub_spot": d.get("pub_spot", ""),
    }


def slot_label(s: Session, slot: str | None) -> str:
    """The owner's chosen time as said: their own words, or the button's label."""
    if slot == "custom":
        return s.d.get("slot_text", "")
    return s.label(f"slot_{slot}") if slot else ""
