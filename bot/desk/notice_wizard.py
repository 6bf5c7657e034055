"""The agents' guided /notice in their group: buttons for kind → community → buildings → when →
text → urgent? → readback with 确认发布 / 取消 (the other /notice commands: notice_commands.py).
Only roster members; only the agent who started a draft continues it.

The draft is kept in the database, a follow-up row (kind notice_draft) whose data holds what was
chosen and the choices of its current prompt, so a restart loses nothing; it lapses after an hour
(the scheduler closes a due row it has no handler for). Each prompt is a new message in the group,
through the outbox at the group's rate; a typed answer (several buildings, a time, the text) is a
reply to it. A tap or a reply is checked against the draft as stored: its prompt must be the
current one, its choice one that prompt offered."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm.attributes import flag_modified

from dialogs.notices import context, kinds, parse_buildings, parse_span, quick_spans
from dialogs.ports import NoticeView
from dialogs.units import building_label
from storage.models import FollowUp
from storage.notice_repo import NoticesRepo
from storage.uow import UnitOfWork

from ..notices import Notices, send_time
from ..outbound import TELEGRAM, Message
from .context import PRIORITY_PROMPT, Desk
from .notice_callbacks import NoticeCb, keyboard

DRAFT = "notice_draft"  # the follow-up's kind, and the purpose of its prompts in the outbox
LIFETIME = timedelta(hours=1)
MAX_BUTTONS = 24
TEXT_LIMIT = 500
ALL = "*"


class Refused(Exception):
    def __init__(self, reason: str, **ctx: Any):
        super().__init__(reason)
        self.ctx = {"reason": reason, "number": "", "value": "", "handler": "", **ctx}


def _missing(d: dict[str, Any]) -> str:
    for key, step in (("kind", "kind"), ("community", "community"), ("buildings", "buildings")):
        if key not in d:
            return step
    for key, step in (("from", "when"), ("text", "text"), ("urgent", "urgent")):
        if key not in d:
            return step
    return "confirm"


def _draft_view(d: dict[str, Any]) -> NoticeView:
    return NoticeView(
        0,
        d["kind"],
        d["community"],
        tuple(d["buildings"]),
        datetime.fromisoformat(d["from"]),
        datetime.fromisoformat(d["until"]),
        d.get("text", ""),
        bool(d.get("urgent")),
    )


def _grid(items: list[tuple[str, Any]], per_row: int) -> list[list[tuple[str, Any]]]:
    return [items[i : i + per_row] for i in range(0, len(items), per_row)]


class NoticeDesk:
    def __init__(self, desk: Desk):
        self.desk = desk
        self.tz = desk.texts.tz
        self.notices = Notices(desk.outbound, desk.policy, self.tz)

    def now(self) -> datetime:
        return self.desk.clock.now()

    # --- the guided draft -----------------------------------------------------------------------
    async def start(self, uow: UnitOfWork, agent) -> None:
        communities = await uow.registry.communities()
        if not communities:
            raise Refused("no_units")
        data: dict[str, Any] = {"agent_id": agent.id, "agent": agent.name, "n": 0}
        if len(communities) == 1:
            data["community"] = communities[0]
        now = self.now()
        # urgent: quiet hours do not hold back the row's lapse (bot/followups/scheduler.py)
        f = await uow.followups.add(DRAFT, now + LIFETIME, now, urgent=True, data=data)
        await self._next(uow, f, data)

    async def _draft(self, uow: UnitOfWork, agent, draft_id: Any, n: Any) -> FollowUp:
        # under the row's lock (PostgreSQL): two taps on one prompt are one answer
        f = await uow.session.get(FollowUp, int(draft_id or 0), with_for_update=True)
        if f is None or f.kind != DRAFT or f.state != "pending" or f.due_at <= self.now():
            raise Refused("stale")
        if f.data.get("agent_id") != agent.id:
            raise Refused("not_yours", handler=f.data.get("agent", ""))
        if n != f.data.get("n"):
            raise Refused("stale")
        return f

    async def tap(self, uow: UnitOfWork, agent, cb: NoticeCb) -> str | None:
        """A button of a draft's prompt; returns the alert for the tapper (None: done)."""
        try:
            f = await self._draft(uow, agent, cb.draft, cb.n)
            options = f.data.get("options") or []
            if cb.pick >= len(options):
                raise Refused("stale")
            await self._answer(uow, f, dict(f.data), options[cb.pick])
        except Refused as r:
            return self.desk.texts.render("agent_notice_refused", r.ctx)
        return None

    async def _answer(self, uow: UnitOfWork, f: FollowUp, d: dict[str, Any], value: Any) -> None:
        step = d["step"]
        if step == "confirm":
            await (self._publish(uow, f, d) if value == "publish" else self._cancel(uow, f))
            return
        if step == "buildings":
            d["buildings"] = [] if value == ALL else [value]
        elif step == "when":
            d["from"], d["until"] = value
        elif step == "urgent":
            d["urgent"] = value == "urgent"
        else:  # kind, community; text: "不用补充说明"
            d[step] = "" if step == "text" else value
        await self._next(uow, f, d)

    async def reply(self, uow: UnitOfWork, agent, ref: dict[str, Any], text: str) -> None:
        """A typed answer: a reply to the draft's current prompt."""
        try:
            f = await self._draft(uow, agent, ref.get("draft"), ref.get("n"))
        except Refused as r:
            await self.desk.to_agents(uow, "agent_notice_refused", r.ctx)
            return
        d = dict(f.data)
        step, extra = d["step"], {}
        if step == "buildings":
            typed = parse_buildings(text)
            known = await uow.registry.buildings(d["community"])
            unknown = [b for b in typed if b not in known]
            if typed and not unknown:
                d["buildings"] = typed
            else:
                extra = {"bad_buildings": unknown or [text.strip()], "known_buildings": known}
        elif step == "when":
            span = parse_span(text, self.now().astimezone(self.tz))
            if span is not None and span[1] > self.now():
                d["from"], d["until"] = (t.isoformat() for t in span)
            else:
                extra = {"bad_time": text.strip()[:40]}
        elif step == "text" and text.strip():
            d["text"] = text.strip()[:TEXT_LIMIT]
        await self._next(uow, f, d, extra)

    async def _cancel(self, uow: UnitOfWork, f: FollowUp) -> None:
        uow.followups.done(f, self.now())
        await self.desk.to_agents(uow, "agent_notice_cancelled", {})

    async def _publish(self, uow: UnitOfWork, f: FollowUp, d: dict[str, Any]) -> None:
        if datetime.fromisoformat(d["until"]) <= self.now():
            # the draft waited past its own end: asked for the time again
            for key in ("from", "until"):
                d.pop(key)
            await self._next(uow, f, d)
            return
        v, repo = _draft_view(d), NoticesRepo(uow.session)
        notice_id = await repo.create(
            v.kind, v.community, v.buildings, v.starts_at, v.ends_at, v.text, v.urgent,
            d["agent"], self.now(),
        )  # fmt: skip
        reach = await self.notices.publish(uow, notice_id)
        uow.followups.done(f, self.now())
        record = await repo.get(notice_id)
        ctx = {
            "notice": context(record.view, self.tz),
            "agent": d["agent"],
            "reach": reach.count,
            "held_until": reach.held_until,
        }
        await self.desk.to_agents(uow, "agent_notice_published", ctx)

    # --- prompts --------------------------------------------------------------------------------
    async def _next(self, uow, f: FollowUp, d: dict[str, Any], extra=None) -> None:
        """Ask for the first thing still missing (again, with what was wrong, after a bad
        answer); with everything given, read the notice back."""
        step = _missing(d)
        b = self.desk.texts.button
        ctx: dict[str, Any] = {"agent": d["agent"], **(extra or {})}
        if "kind" in d:
            ctx["notice"] = {"kind": d["kind"], "community": d.get("community", "")}
        rows: list[list[tuple[str, Any]]] = []
        force_reply = False
        if step == "kind":
            rows = _grid([(b(f"notice_kind_{k}"), k) for k in kinds()], 3)
        elif step == "community":
            found = (await uow.registry.communities())[:MAX_BUTTONS]
            rows = _grid([(c, c) for c in found], 2)
        elif step == "buildings":
            found = (await uow.registry.buildings(d["community"]))[: MAX_BUTTONS - 1]
            items = [(b("notice_all_buildings"), ALL)] + [(building_label(x), x) for x in found]
            rows = _grid(items, 4)
            ctx.setdefault("bad_buildings", [])
            ctx.setdefault("known_buildings", found)
        elif step == "when":
            spans = quick_spans(self.now().astimezone(self.tz))
            items = [(b(key, **v), [a.isoformat(), z.isoformat()]) for key, v, a, z in spans]
            rows = _grid(items, 2)
            ctx.setdefault("bad_time", "")
        elif step == "text":
            # "其他" says nothing by itself: its text is asked for, with no way round it
            force_reply = d["kind"] == "other"
            rows = [] if force_reply else [[(b("notice_no_text"), "none")]]
        elif step == "urgent":
            rows = [[(b("notice_normal"), "normal"), (b("notice_urgent"), "urgent")]]
            fp = self.desk.policy.followups.calendar
            ctx["quiet"] = f"{fp.quiet_start:%H:%M}-{fp.quiet_end:%H:%M}"
        else:
            rows = [[(b("notice_publish"), "publish"), (b("notice_cancel"), "cancel")]]
            v = _draft_view(d)
            at = send_time(self.desk.policy, self.tz, self.now(), v.urgent)
            reach = await self.notices.audience(uow, v.community, v.buildings, at)
            ctx.update(
                notice=context(v, self.tz),
                reach=len(reach),
                held_until=at if at > self.now() else None,
            )
        d["step"] = step
        await self._prompt(
            uow,
            f,
            d,
            f"agent_notice_{'readback' if step == 'confirm' else 'ask_' + step}",
            ctx,
            rows,
            force_reply,
        )

    async def _prompt(self, uow, f, d, template, ctx, rows, force_reply) -> None:
        d["n"] = int(d.get("n", 0)) + 1
        d["options"] = [value for row in rows for _, value in row]
        f.data = dict(d)
        flag_modified(f, "data")  # a JSON column: changes in place are not seen
        picks, i = [], 0
        for row in rows:
            picks.append([(label, (i := i + 1) - 1) for label, _ in row])
        now = self.now()
        parts = self.desk.outbound.renderers[TELEGRAM].render(
            Message(template, {"now": now, **ctx})
        )
        markup = keyboard(f.id, d["n"], picks) if picks else None
        if force_reply:
            markup = {"force_reply": True}
        for k, part in enumerate(parts):
            payload = dict(part.payload)
            if markup is not None and k == len(parts) - 1:
                payload["reply_markup"] = markup
            await uow.outbox.add(
                self.desk.agent_chat_id,
                payload,
                now,
                channel=TELEGRAM,
                method=part.method,
                priority=PRIORITY_PROMPT,
                purpose=DRAFT,
                ref={"draft": f.id, "n": d["n"]},
            )
