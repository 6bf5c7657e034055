"""咨询: the owner's question is first tried against the outage notices and the knowledge base
(consult_answer.py); what they cannot answer becomes a consultation ticket with a promised reply
time."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from ..events import Inbound
from ..session import Session
from ..steps import enter, entry, step
from . import consult_answer, filing

# fewer letters or digits than this (emoji and punctuation do not count) is not yet a question
MIN_WORD_CHARS = 2


def has_words(text: str) -> bool:
    """An emoji, a lone character or punctuation alone cannot be answered: it is asked again."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN") >= MIN_WORD_CHARS


@step("consult.question", accepts={"text", "photo"})
async def ask_question(s: Session) -> None:
    s.ask("consult_ask" if s.ports.knowledge is None else "kb_consult_ask", [])


@ask_question.on
async def on_question(s: Session, ev: Inbound, value: str | None) -> None:
    if ev.kind == "photo":
        s.d.setdefault("attachments", []).append({"kind": "photo", "file_id": ev.file_id})
        if not has_words(ev.text):
            s.say("consult_photo_needs_words")
            await ask_question(s)
            return
        # a question about a picture needs a person's eyes: it goes to the agents as before
    elif not has_words(ev.text):
        # asked again on the same step: nothing is filed, photos sent so far are kept
        s.ask("consult_needs_words", [])
        return
    elif await consult_answer.answer_first(s, ev.text.strip(), origin="consult"):
        return
    await file_consult(s, ev.text.strip())


@entry("consult.typed")
async def typed_at_menu(
    s: Session, question: str, otherwise: Callable[[Session], Awaitable[None]]
) -> None:
    """Words typed at the main menu (the emergency check has passed them): answered when the
    knowledge base knows them; otherwise the menu does what it always did (`otherwise`)."""
    if s.ports.knowledge is None or not has_words(question):
        await otherwise(s)
        return
    if not await consult_answer.answer_first(s, question.strip(), origin="menu"):
        s.reset_dialog()
        await otherwise(s)


@entry("consult.file")
async def file_consult(s: Session, question: str, details: dict[str, Any] | None = None) -> None:
    """The consultation ticket, with the reply time the policy promises for it."""
    draft = filing.build_draft(
        s,
        kind="consult",
        category=None,
        urgent=False,
        description=question,
        location="",
        details=details,
    )
    ticket = await filing.file_ticket(s, draft)
    s.say("consult_created", ticket=ticket, question=draft.description)
    s.reset_dialog()
    await enter(s, "menu.show")
