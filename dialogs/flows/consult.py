"""咨询: the owner's question becomes a consultation ticket with a promised reply time."""

from __future__ import annotations

from ..events import Inbound
from ..session import Session
from ..steps import step
from . import filing, menu


@step("consult.question", accepts={"text", "photo"})
async def ask_question(s: Session) -> None:
    s.ask("consult_ask", [])


@ask_question.on
async def on_question(s: Session, ev: Inbound, value: str | None) -> None:
    if ev.kind == "photo":
        s.d.setdefault("attachments", []).append({"kind": "photo", "file_id": ev.file_id})
        if not ev.text.strip():
            s.say("consult_photo_needs_words")
            await ask_question(s)
            return
    draft = filing.build_draft(
        s, kind="consult", category=None, urgent=False, description=ev.text.strip(), location=""
    )
    ticket = await filing.file_ticket(s, draft)
    s.say("consult_created", ticket=ticket, question=draft.description)
    s.reset_dialog()
    await menu.show_menu(s)
