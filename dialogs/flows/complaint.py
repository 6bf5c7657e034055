"""投诉 in the six steps of DOMAIN.md (seed 002):
A opening with surname, empathy, apology; B one question at a time to find the core;
C restate and ask 对吗; D one plan with its benefit, alternatives only if declined;
E hand the decision to the owner; F close with next step, time, who follows up, hotline.
An angry owner is calmed first and offered a person at once.
The apology is said once, in the opening: the calming words and the later steps acknowledge,
thank and restate instead of stacking more apologies on it."""

from __future__ import annotations

from ..events import Inbound
from ..session import Session
from ..steps import enter, goto, step
from ..units import building_label
from . import filing

FIELDS = ("what", "category", "where", "when", "expect")
EDIT_STEPS = {
    "what": "complaint.what",
    "category": "complaint.category",
    "where": "complaint.where",
    "when": "complaint.when",
    "expect": "complaint.expect",
}


def is_angry(s: Session, text: str) -> bool:
    return s.has_cue("angry", text) or any(p in text for p in s.cues.get("angry_punctuation", []))


async def intercept(s: Session, ev: Inbound) -> bool:
    """Calm first, then solve (002): the first sign of anger gets the calming words and a person."""
    if ev.kind == "text" and not s.d.get("angry") and is_angry(s, ev.text):
        s.d["angry"] = True
        s.say("complaint_calm")
    return False


def _with_human(s: Session, rows: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    if s.d.get("angry"):
        return [*rows, [(s.label("complaint_to_human"), "human")]]
    return rows


def _just_calmed(s: Session) -> bool:
    """The calming words went out in this very step: the next prompt does not acknowledge twice."""
    return any(r.template == "complaint_calm" for r in s.replies)


def _category(s: Session) -> dict:
    return s.policy.complaint_categories.get(s.d.get("category") or "", {})


async def _human(s: Session) -> None:
    await enter(s, "handoff.request", topic="complaint")


async def advance(s: Session) -> None:
    for f in FIELDS:
        if f not in s.d:
            await goto(s, EDIT_STEPS[f])
            return
    if not s.d.get("restated"):
        await goto(s, "complaint.restate")
    elif "plan" not in s.d:
        await goto(s, "complaint.plan")
    else:
        await goto(s, "complaint.agree")


async def _take_text(s: Session, ev: Inbound, value: str | None, field: str) -> None:
    if value == "human":
        await _human(s)
        return
    if ev.kind == "photo":
        s.d.setdefault("attachments", []).append({"kind": "photo", "file_id": ev.file_id})
        if ev.album_id:
            s.d["album"] = ev.album_id
        if not ev.text.strip():
            s.say("complaint_photo_kept")
            await goto(s, EDIT_STEPS[field])
            return
    s.d[field] = value if value is not None and value != "human" else ev.text.strip()
    await advance(s)


@step("complaint.what", accepts={"text", "photo", "choice"})
async def ask_what(s: Session) -> None:
    first = not s.d.get("opened")
    s.d["opened"] = True
    s.ask("complaint_ask_what", _with_human(s, []), opening=first)


@ask_what.on
async def on_what(s: Session, ev: Inbound, value: str | None) -> None:
    await _take_text(s, ev, value, "what")


@step("complaint.category", accepts={"choice"})
async def ask_category(s: Session) -> None:
    cats = [(c["label"], key) for key, c in s.policy.complaint_categories.items()]
    rows = [cats[i : i + 3] for i in range(0, len(cats), 3)]
    s.ask("complaint_ask_category", _with_human(s, rows), calmed=_just_calmed(s))


@ask_category.on
async def on_category(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "human":
        await _human(s)
        return
    s.d["category"] = value
    s.d.pop("plan", None)
    s.d.pop("declined", None)
    await advance(s)


PLACES = ("home", "building", "public", "parking", "outside")


@step("complaint.where", accepts={"text", "choice"}, text_limit=200)
async def ask_where(s: Session) -> None:
    opts = [(s.label(f"complaint_at_{p}"), p) for p in PLACES]
    s.ask(
        "complaint_ask_where",
        _with_human(s, [opts[:2], opts[2:]]),
        unit_label=s.profile["unit"]["label"],
    )


def _place(s: Session, value: str | None) -> str | None:
    """The owner's own home and building are written out, so the agents know which ones."""
    unit = s.profile.get("unit") or {}
    if value == "home":
        return unit.get("label") or s.label("complaint_at_home")
    if value == "building":
        if unit.get("building"):
            return unit.get("community", "") + building_label(unit["building"])
        return s.label("complaint_at_building")
    if value in PLACES:
        return s.label(f"complaint_at_{value}")
    return value


@ask_where.on
async def on_where(s: Session, ev: Inbound, value: str | None) -> None:
    await _take_text(s, ev, _place(s, value), "where")


@step("complaint.when", accepts={"text", "choice"}, text_limit=100)
async def ask_when(s: Session) -> None:
    opts = [
        (s.label(f"when_{k}"), s.label(f"when_{k}"))
        for k in ("just_now", "today", "yesterday", "recent", "ongoing")
    ]
    s.ask("complaint_ask_when", _with_human(s, [opts[:3], opts[3:]]))


@ask_when.on
async def on_when(s: Session, ev: Inbound, value: str | None) -> None:
    await _take_text(s, ev, value, "when")


@step("complaint.expect", accepts={"text", "choice"}, text_limit=500)
async def ask_expect(s: Session) -> None:
    s.ask("complaint_ask_expect", _with_human(s, []))


@ask_expect.on
async def on_expect(s: Session, ev: Inbound, value: str | None) -> None:
    await _take_text(s, ev, value, "expect")


# --- C: restate -----------------------------------------------------------------------------------
@step("complaint.restate", accepts={"choice"})
async def ask_restate(s: Session) -> None:
    d = s.d
    s.ask(
        "complaint_restate",
        _with_human(
            s,
            [
                [
                    (s.label("yes_right"), "yes"),
                    (s.label("modify"), "modify"),
                    (s.label("cancel"), "cancel"),
                ]
            ],
        ),
        what=d["what"],
        category_label=s.policy.category_label("complaint", d["category"]),
        where=d["where"],
        when=d["when"],
        expect=d["expect"],
    )


@ask_restate.on
async def on_restate(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "human":
        await _human(s)
    elif value == "modify":
        await goto(s, "complaint.edit")
    elif value == "cancel":
        s.say("complaint_cancelled")
        s.reset_dialog()
        await enter(s, "menu.show")
    else:
        s.d["restated"] = True
        await advance(s)


@step("complaint.edit", accepts={"choice"})
async def ask_edit(s: Session) -> None:
    rows = [
        [(s.label(f"complaint_edit_{f}"), f) for f in FIELDS[:3]],
        [(s.label(f"complaint_edit_{f}"), f) for f in FIELDS[3:]],
        [(s.label("back_to_readback"), "back")],
    ]
    s.ask("complaint_ask_edit", rows)


@ask_edit.on
async def on_edit(s: Session, ev: Inbound, value: str | None) -> None:
    if value != "back":
        s.d.pop(value or "", None)
    s.d["restated"] = False
    await advance(s)


# --- D and E: the plan --------------------------------------------------------------------------
@step("complaint.plan", accepts={"choice"})
async def ask_plan(s: Session) -> None:
    plan = s.policy.complaint_plans(s.d["category"])[0]
    s.ask(
        "complaint_plan",
        _with_human(s, [[(s.label("plan_accept"), "accept")], [(s.label("plan_other"), "other")]]),
        plan=plan,
    )


def _decline(s: Session, index: int) -> None:
    declined = s.d.setdefault("declined", [])
    if index in declined:
        declined.remove(index)
    declined.append(index)  # the last one is the plan just declined


@ask_plan.on
async def on_plan(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "human":
        await _human(s)
    elif value == "other":
        _decline(s, 0)
        await goto(s, "complaint.alternatives")
    else:
        s.d["plan"] = 0
        await advance(s)


def _alternatives(s: Session) -> list[int]:
    """Other options never repeat what the owner declined; once every plan was declined, the
    earlier ones come back, but never the one just declined."""
    count = len(s.policy.complaint_plans(s.d["category"]))
    declined = s.d.get("declined", [])
    left = [i for i in range(count) if i not in declined]
    if not left and declined:
        left = [i for i in range(count) if i != declined[-1]]
    return left


@step("complaint.alternatives", accepts={"choice"})
async def ask_alternatives(s: Session) -> None:
    plans = s.policy.complaint_plans(s.d["category"])
    shown = _alternatives(s)
    rows = [[(s.label("plan_pick", n=n + 1), str(i))] for n, i in enumerate(shown)]
    rows.append([(s.label("complaint_to_human"), "human")])
    s.ask("complaint_alternatives", rows, plans=[plans[i] for i in shown])


@ask_alternatives.on
async def on_alternatives(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "human":
        await _human(s)
        return
    s.d["plan"] = int(value or 0)
    await advance(s)


@step("complaint.agree", accepts={"choice"})
async def ask_agree(s: Session) -> None:
    plan = s.policy.complaint_plans(s.d["category"])[s.d["plan"]]
    s.ask(
        "complaint_agree",
        [[(s.label("agree_yes"), "yes"), (s.label("agree_other"), "other")]],
        plan=plan,
    )


@ask_agree.on
async def on_agree(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "other":
        _decline(s, s.d.pop("plan", 0))
        await goto(s, "complaint.alternatives")
        return
    await _close(s)


async def _close(s: Session) -> None:
    """F: restate the agreed plan, the next step and its time, who follows up, the hotline."""
    d = s.d
    plan = s.policy.complaint_plans(d["category"])[d["plan"]]
    category = _category(s)
    urgent = bool(category.get("urgent")) or bool(d.get("angry"))
    draft = filing.build_draft(
        s,
        kind="complaint",
        category=d["category"],
        urgent=urgent,
        description=d["what"],
        location=d["where"],
        details={
            "when": d["when"],
            "expect": d["expect"],
            "plan": plan["text"],
            "angry": bool(d.get("angry")),
            # 设施 / 服务 / 安全 (000 §03), for the agents and the reports
            "group": category.get("group", ""),
        },
    )
    ticket = await filing.file_ticket(s, draft)
    s.say(
        "complaint_closed",
        ticket=ticket,
        plan=plan,
        department=draft.department,
        # a real agent on duty, or none: the owner is never told a made-up name
        duty_agent=await s.ports.handoffs.duty_agent(),
    )
    s.reset_dialog()
    await enter(s, "menu.show")
