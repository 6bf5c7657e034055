"""咨询 answered from the knowledge base (常见问题, issue 12): an outage notice in force first,
then a confident match answered at once, a middling one offered as choices ("您是想问"), and
whatever the owner still needs handed to a person: a consultation ticket or 人工客服. Every
question the base could not settle is logged for the agents (`/faq misses`); every answer the bot
gave by itself, and what the owner made of it, for the managers' report (kb_answers).

Its steps form their own flow ("kb"), which /menu never puts aside: an answer given needs no
resuming, and a repair the owner had put aside stays the one offered to resume."""

from __future__ import annotations

from ..events import Inbound
from ..knowledge import thresholds
from ..ports import KbMatch, Where
from ..session import Session
from ..steps import enter, goto, step
from . import notice_check

# the owner sees at most this many "您是想问" choices (WeChat menus carry ten, but three read)
CHOICES = 3
# a button shows the start of a long entry question; the message above it lists it whole
BUTTON_CHARS = 28
NONE_FITS = "none"


async def answer_first(s: Session, question: str, *, origin: str) -> bool:
    """Try the notices and the knowledge base before anything is filed. True when the owner was
    told or offered something (the flow goes on here); False: the caller goes on as before.
    `origin`: "consult" (the owner asked through 咨询: a miss is logged) or "menu" (words typed
    at the menu, which may be no question at all)."""
    s.d["question"] = question
    if await notice_check.tell_active_notice(s, text=question):
        await _log_answer(s, None, "notice")
        await goto(s, "kb.after_notice")
        return True
    if await _offer(s, question):
        return True
    if origin == "consult":
        await _log_miss(s, "none")
    return False


async def _offer(s: Session, question: str) -> bool:
    kb = s.ports.knowledge
    if kb is None:
        return False
    matches = await kb.ask(question, _where(s), s.now(), limit=CHOICES)
    confident, middling = thresholds()
    if matches and matches[0].score >= confident:
        await _answer(s, matches[0])
        return True
    close = [m for m in matches[:CHOICES] if m.score >= middling]
    if not close:
        return False
    s.d["offered"] = [[m.entry_id, m.question] for m in close]
    await goto(s, "kb.pick")
    return True


def _where(s: Session) -> Where:
    unit = s.profile.get("unit") or {}
    return Where(unit.get("community", ""), unit.get("building", ""))


async def _answer(s: Session, match: KbMatch) -> None:
    # plain text from the database: escaped once by the template's autoescape, line breaks kept
    s.say("kb_answer", kb_question=match.question, kb_answer=match.answer)
    s.d["entry_id"] = match.entry_id
    await _log_answer(s, match.entry_id, "entry")
    await goto(s, "kb.helped")


async def _log_answer(s: Session, entry_id: int | None, source: str) -> None:
    """Recorded when shown, not when the owner taps: one who reads the answer and leaves was
    answered without a person too (the row stays "shown")."""
    kb = s.ports.knowledge
    if kb is None:
        return
    # a later answer in the same consultation (a notice, then an entry) replaces the id: each
    # answer gets its own row and its own outcome
    s.d["answer_id"] = await kb.log_answer(s.account_id, entry_id, source, s.now())
    s.durable = True


async def _answer_outcome(s: Session, outcome: str) -> None:
    # popped: the outcome belongs to the answer just shown, never to one of an earlier question
    answer_id = s.d.pop("answer_id", None)
    kb = s.ports.knowledge
    if kb is None or answer_id is None:
        return
    await kb.answer_outcome(answer_id, outcome)
    s.durable = True


async def _log_miss(s: Session, reason: str) -> None:
    """none: nothing matched; declined: the answer did not help; other: none of the choices."""
    kb = s.ports.knowledge
    if kb is None:
        return
    await kb.log_miss(s.d.get("question", ""), s.account_id, reason, s.now())
    s.durable = True


async def _to_ticket(s: Session) -> None:
    """The consultation ticket of old, with its promised reply time; the agents' card says
    which answer the owner was shown."""
    details = {"kb_entry": s.d["entry_id"]} if s.d.get("entry_id") else None
    await enter(s, "consult.file", question=s.d.get("question", ""), details=details)


# --- 这个回答解决您的问题了吗？ ------------------------------------------------------------------
@step("kb.helped", accepts={"choice"})
async def ask_helped(s: Session) -> None:
    s.ask(
        "kb_helped",
        [
            [(s.label("kb_solved"), "solved"), (s.label("kb_unsure"), "unsure")],
            [(s.label("kb_human"), "human")],
        ],
    )


@ask_helped.on
async def on_helped(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "solved":
        await _answer_outcome(s, "solved")
        s.say("kb_solved")
        s.reset_dialog()
        await enter(s, "menu.show")
    elif value == "unsure":
        await _answer_outcome(s, "declined")
        await _log_miss(s, "declined")
        s.say("kb_declined")
        await _to_ticket(s)
    elif value == "human":
        await _answer_outcome(s, "human")
        await _log_miss(s, "declined")
        question = s.d.get("question", "")
        # the person sees the owner's question; the answered question is nothing to resume
        s.reset_dialog()
        s.set_step("menu", "main")
        s.d["description"] = question
        await enter(s, "handoff.request")


# --- 您是想问：… -------------------------------------------------------------------------------
@step("kb.pick", accepts={"choice"})
async def ask_pick(s: Session) -> None:
    offered = s.d.get("offered", [])
    rows = [[(_clip(q), f"e:{entry_id}")] for entry_id, q in offered]
    rows.append([(s.label("kb_none"), NONE_FITS)])
    s.ask("kb_pick", rows, kb_options=[q for _, q in offered])


@ask_pick.on
async def on_pick(s: Session, ev: Inbound, value: str | None) -> None:
    chosen = None
    if value and value.startswith("e:") and s.ports.knowledge is not None:
        # the entry as it is now: an agent may have changed or retired it meanwhile
        chosen = await s.ports.knowledge.entry(int(value[2:]))
    if chosen is None:
        await _log_miss(s, "other")
        await _to_ticket(s)
        return
    await _answer(s, chosen)


def _clip(question: str) -> str:
    return question if len(question) <= BUTTON_CHARS else question[: BUTTON_CHARS - 1] + "…"


# --- an outage notice was told: is that what the owner asked about? ----------------------------
@step("kb.after_notice", accepts={"choice"})
async def ask_after_notice(s: Session) -> None:
    s.ask(
        "kb_after_notice",
        [[(s.label("kb_notice_ok"), "ok")], [(s.label("kb_notice_other"), "other")]],
    )


@ask_after_notice.on
async def on_after_notice(s: Session, ev: Inbound, value: str | None) -> None:
    if value == "ok":
        await _answer_outcome(s, "solved")
        s.say("kb_solved")
        s.reset_dialog()
        await enter(s, "menu.show")
        return
    # the notice was not the answer; an entry shown next is counted on a row of its own
    await _answer_outcome(s, "declined")
    question = s.d.get("question", "")
    if await _offer(s, question):
        return
    await _log_miss(s, "none")
    await _to_ticket(s)
