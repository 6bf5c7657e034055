"""/start: greet, and either recognise a returning owner or begin identification."""

from __future__ import annotations

from ..session import Session
from ..steps import goto
from . import menu


def is_identified(s: Session) -> bool:
    p = s.profile
    return bool(p.get("salutation") and p.get("unit"))


async def on_start(s: Session) -> None:
    s.reset_dialog()
    s.state.pop("paused", None)
    if is_identified(s):
        s.say("welcome_back", unit_label=s.profile["unit"]["label"])
        await menu.show_menu(s)
        return
    s.say("welcome")
    await goto(s, "id.contact")
