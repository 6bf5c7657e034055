"""/start: greet, and either recognise a returning owner or begin identification."""

from __future__ import annotations

from ..session import Session
from ..steps import enter, entry, goto


def is_identified(s: Session) -> bool:
    p = s.profile
    return bool(p.get("salutation") and p.get("unit"))


@entry("start")
async def on_start(s: Session) -> None:
    if is_identified(s):
        # /start in the middle of a dialog keeps the draft, as /menu does
        s.say("welcome_back", unit_label=s.profile["unit"]["label"])
        await enter(s, "menu.show", pause=True)
        return
    s.reset_dialog()
    s.state.paused = None
    s.say("welcome")
    await goto(s, "id.contact")
