"""咨询: the owner's question becomes a consultation ticket with a promised reply time."""

from __future__ import annotations

import unicodedata

from ..events import Inbound
from ..session import Session
from ..steps import enter, step
from . import filing

# fewer letters or digits than this (emoji and punctuation do not count) is not yet a question
MIN_WORD_CHARS = 2


def has_words(text: str) -> bool:
    """An emoji, a lone character or punctuation alone cannot be answered: it is asked again."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN") >= MIN_WORD_CHARS


@step("consult.question", accepts={"text", "photo"})
async def ask_question(s: Session) -> None:
    s.ask("consult_ask", [])


@ask_question.on
async def on_question(s: Session, ev: Inbound, value: str | None) -> None:
    if ev.kind == "photo":
        s.d.setdefault("attachments", []).append({"kind": "photo", "file_id": ev.file_id})
        if not has_words(ev.text):
            s.say("consult_photo_needs_words")
            await ask_question(s)
            return
    elif not has_words(ev.text):
        # asked again on the same step: nothing is filed, photos sent so far are kept
        s.ask("consult_needs_words", [])
        return
    draft = filing.build_draft(
        s, kind="consult", category=None, urgent=False, description=ev.text.strip(), location=""
    )
    ticket = await filing.file_ticket(s, draft)
    s.say("consult_created", ticket=ticket, question=draft.description)
    s.reset_dialog()
    await enter(s, "menu.show")
