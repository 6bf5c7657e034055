"""/start: greet, and either recognise a returning owner or begin identification."""

from __future__ import annotations

from ..session import Session
from ..steps import goto
from . import menu


def is_identified(s: Session) -> bool:
    p = s.profile
    return bool(p.get("salutation") and p.get("unit"))


async def on_start(s: Session) -> None:
    if is_identified(s):
        # /start in the middle of a dialog keeps the draft, as /menu does
        s.say("welcome_back", unit_label=s.profile["unit"]["label"])
        await menu.show_menu(s, pause=True)
        return
    s.reset_dialog()
    s.state.pop("paused", None)
    s.say("welcome")
    await goto(s, "id.contact")
