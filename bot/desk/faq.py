"""/faq in the agents' group (issue 12): agents see what an owner's question matches and keep
the 常见问题 current. Every change goes through the knowledge repository, which records it with
the agent's name; answers are held to 服务禁言 like an agent's reply, since owners read them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dialogs.knowledge import MAX_ANSWER, MAX_QUESTION, thresholds
from dialogs.polite import check as polite_check
from dialogs.ports import Where
from dialogs.typography import fix_punctuation
from storage.kb_repo import EntryInvalid, KnowledgeRepo
from storage.models import Agent, OutboxMessage
from storage.uow import UnitOfWork

from . import faq_commands as fc
from .context import Desk

# `/faq misses`: the week's most frequent unanswered questions
MISSES_DAYS = 7
MISSES_SHOWN = 10


async def run(
    desk: Desk,
    uow: UnitOfWork,
    agent: Agent,
    command: fc.FaqCommand,
    replied: OutboxMessage | None,
) -> None:
    repo = KnowledgeRepo(uow.session)
    now = desk.clock.now()
    match command:
        case fc.Show(question=question):
            question = question or await _question_of(uow, replied)
            if not question:
                await _say(desk, uow, "agent_faq_usage", faq_form="show", faq_problem="no_question")
                return
            await _show_matches(desk, uow, repo, question)
        case fc.ShowEntry(entry_id=entry_id):
            entry = await repo.get(entry_id)
            if entry is None:
                await _say(desk, uow, "agent_faq_unknown", entry_id=entry_id)
                return
            await _say(desk, uow, "agent_faq_entry", faq_entry=entry)
        case fc.Add(question=question, answer=answer):
            question, answer = fix_punctuation(question), fix_punctuation(answer)
            if await _held(desk, uow, answer):
                return
            try:
                entry_id = await repo.add(question, answer, actor=agent.name, now=now)
            except EntryInvalid as e:
                await _invalid(desk, uow, e)
                return
            await _say(
                desk,
                uow,
                "agent_faq_added",
                entry_id=entry_id,
                faq_q=question,
                faq_a=answer,
                agent=agent.name,
            )
        case fc.Edit(entry_id=entry_id):
            await _edit(desk, uow, repo, agent, command)
        case fc.SetActive(entry_id=entry_id, active=active):
            entry = await repo.get(entry_id)
            if entry is None:
                await _say(desk, uow, "agent_faq_unknown", entry_id=entry_id)
                return
            await repo.set_active(entry_id, active, actor=agent.name, now=now)
            await _say(desk, uow, "agent_faq_switched", faq_entry=entry, faq_active=active)
        case fc.Misses():
            rows = await repo.misses(now - timedelta(days=MISSES_DAYS), limit=MISSES_SHOWN)
            misses = [(example, count) for _, example, count in rows]
            await _say(desk, uow, "agent_faq_misses", faq_misses=misses, faq_days=MISSES_DAYS)
        case fc.BadInput(form=form, problem=problem):
            await _say(desk, uow, "agent_faq_usage", faq_form=form, faq_problem=problem)


async def _say(desk: Desk, uow: UnitOfWork, template: str, **ctx: Any) -> None:
    await desk.to_agents(uow, template, ctx)


async def _invalid(desk: Desk, uow: UnitOfWork, e: EntryInvalid) -> None:
    """Nothing was stored: what to change (too long, empty), in words."""
    await _say(
        desk,
        uow,
        "agent_faq_invalid",
        faq_problems=[code for code, _ in e.problems],
        kb_max_question=MAX_QUESTION,
        kb_max_answer=MAX_ANSWER,
    )


async def _held(desk: Desk, uow: UnitOfWork, answer: str) -> bool:
    """An answer that breaks 服务禁言 is not kept: the agent is told what to rewrite."""
    findings = polite_check(answer)
    if findings:
        await _say(desk, uow, "agent_faq_held", issues=findings)
    return bool(findings)


async def _edit(desk: Desk, uow: UnitOfWork, repo, agent: Agent, cmd: fc.Edit) -> None:
    if await repo.get(cmd.entry_id) is None:
        await _say(desk, uow, "agent_faq_unknown", entry_id=cmd.entry_id)
        return
    fields = {}
    if cmd.question:
        fields["question"] = fix_punctuation(cmd.question)
    if cmd.answer:
        fields["answer"] = fix_punctuation(cmd.answer)
        if await _held(desk, uow, fields["answer"]):
            return
    try:
        await repo.edit(cmd.entry_id, actor=agent.name, now=desk.clock.now(), **fields)
    except EntryInvalid as e:
        await _invalid(desk, uow, e)
        return
    entry = await repo.get(cmd.entry_id)
    await _say(desk, uow, "agent_faq_edited", faq_entry=entry, agent=agent.name)


async def _show_matches(desk: Desk, uow: UnitOfWork, repo, question: str) -> None:
    """What the owner would get for these words: the entry answered at once, the ones offered
    as 您是想问, or none (then a person answers)."""
    confident, middling = thresholds()
    matches = await repo.ask(question, Where(), desk.clock.now())
    await _say(
        desk,
        uow,
        "agent_faq_match",
        faq_question=question,
        faq_matches=matches,
        kb_confident=confident,
        kb_middling=middling,
    )


async def _question_of(uow: UnitOfWork, replied: OutboxMessage | None) -> str:
    """The owner's question behind a message in the group: a relayed message's words, an
    offer's question, or a ticket's description (a consultation's card)."""
    if replied is None:
        return ""
    ref = replied.ref or {}
    if ref.get("words"):
        return ref["words"]
    if ref.get("question"):
        return ref["question"]
    if replied.ticket_id is not None:
        ticket = await uow.cases.ticket(replied.ticket_id)
        return ticket.description if ticket is not None else ""
    return ""
