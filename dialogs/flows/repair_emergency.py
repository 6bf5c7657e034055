"""The repair dialog's own ways into an emergency: the 🆘 button and an emergency category
(燃气). Words typed anywhere are caught by flows/emergency.py before any step sees them."""

from __future__ import annotations

from ..events import Inbound
from ..session import Session
from ..steps import enter, goto, step


@step("repair.emergency_kind", accepts={"choice"})
async def ask_emergency_kind(s: Session) -> None:
    s.ask(
        "repair_ask_emergency_kind",
        [
            [(s.label("emergency_gas"), "gas")],
            [(s.label("emergency_trapped"), "trapped")],
            [(s.label("emergency_neither"), "neither")],
        ],
    )


@ask_emergency_kind.on
async def on_emergency_kind(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "neither":
        await goto(s, "repair.where")
        return
    await enter(s, "emergency.raise", kind=value or "gas")


def kind_of_category(s: Session, category: str | None) -> str | None:
    """The emergency an emergency category stands for (燃气 → gas), by the policy file."""
    for kind, row in s.policy.emergencies.items():
        if row.get("category") == category:
            return kind
    return None
