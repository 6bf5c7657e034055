"""`python -m bot notice …`: outage notices (公告) from the command line.

    notice add --kind water --community 阳光花园 --buildings 3,5 \
        --from "2026-11-24 14:00" --until "2026-11-24 18:00" --text "…" [--urgent]
    notice list [--all]
    notice end N
    notice extend N "2026-11-24 20:00"

The pushes are queued in the outbox, rendered for each owner's channel; the running bot's senders
send them at their rate limits (and a non-urgent notice waits for quiet hours to end). The agents'
group is told too. Arguments are checked against the registry before anything is written. No
aiogram here: the messages carry no buttons, rendered as the bot's renderers would
(bot/notices.py)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dialogs.clock import Clock, SystemClock
from dialogs.notices import context, kinds, parse_buildings, parse_moment
from dialogs.policy import Policy
from dialogs.texts import Texts

from .cli import StartupError, database, say
from .outbound import TELEGRAM, Message, Outbound, Recipient
from .settings import Settings

PRIORITY_GROUP = 3  # the group's messages, as the desk's prompts (bot/desk/context.py)


def add_parsers(sub) -> None:
    nt = sub.add_parser("notice", help="outage notices pushed to the owners they affect")
    ops = nt.add_subparsers(dest="op", required=True)
    a = ops.add_parser("add")
    a.add_argument("--kind", required=True, help=" / ".join(kinds()))
    a.add_argument("--community", default=None, help="needed when the registry has several")
    a.add_argument("--buildings", default="", help="e.g. 3,5; none: every building")
    a.add_argument("--from", dest="start", required=True, help='"YYYY-MM-DD HH:MM"')
    a.add_argument("--until", required=True, help='"YYYY-MM-DD HH:MM" (or "HH:MM")')
    a.add_argument("--text", default="")
    a.add_argument("--urgent", action="store_true", help="sent at once, even in quiet hours")
    a.add_argument("--by", default="cli", help="who publishes it, as the agents see it")
    ls = ops.add_parser("list")
    ls.add_argument("--all", action="store_true", help="ended and past notices too")
    e = ops.add_parser("end")
    e.add_argument("number", type=int)
    e.add_argument("--by", default="cli")
    x = ops.add_parser("extend")
    x.add_argument("number", type=int)
    x.add_argument("until")
    x.add_argument("--by", default="cli")


@dataclass
class Tools:
    """What the commands need: words, policy, time, and the outbound writer."""

    texts: Texts
    policy: Policy
    clock: Clock
    outbound: Outbound

    @classmethod
    def load(cls, settings: Settings, clock: Clock | None = None) -> Tools:
        from .notices import text_renderers

        texts = Texts(settings.service_tz)
        clock = clock or SystemClock()
        group = Recipient(TELEGRAM, settings.agent_chat) if settings.agent_chat else None
        outbound = Outbound(text_renderers(texts, settings.wecom_enabled), clock, agents=group)
        return cls(texts, Policy.load(settings.policy_file or None), clock, outbound)

    @property
    def notices(self):
        from .notices import Notices

        return Notices(self.outbound, self.policy, self.texts.tz)


def _refused(reason: str, code: int = 2, **ctx: Any) -> StartupError:
    return StartupError(
        "cli_notice_refused", code=code, reason=reason, **{"number": "", "value": "", **ctx}
    )


def _kind(texts: Texts, value: str) -> str:
    for key in kinds():
        if value in (key, texts.labels.get(f"notice_kind_{key}")):
            return key
    raise _refused("bad_kind", value=value, options=list(kinds()))


async def _place(uow, community: str | None, buildings: str) -> tuple[str, list[str]]:
    known = await uow.registry.communities()
    if community is None:
        if len(known) != 1:
            raise _refused("bad_community", value="", options=known)
        community = known[0]
    if known and community not in known:
        raise _refused("bad_community", value=community, options=known)
    wanted = parse_buildings(buildings)
    there = await uow.registry.buildings(community)
    unknown = [b for b in wanted if there and b not in there]
    if unknown:
        raise _refused("bad_buildings", value=",".join(unknown), options=there)
    return community, wanted


async def _add(t: Tools, uow, args: argparse.Namespace) -> dict[str, Any]:
    from storage.notice_repo import NoticesRepo

    kind = _kind(t.texts, args.kind)
    community, buildings = await _place(uow, args.community, args.buildings)
    now = t.clock.now()
    local = now.astimezone(t.texts.tz)
    start = parse_moment(args.start, local)
    if start is None:
        raise _refused("bad_time", value=args.start)
    until = parse_moment(args.until, local, start.at.date())
    end = until.at if until else None
    if until is not None and not until.day_given and end <= start.at:
        end += timedelta(days=1)
    if end is None or end <= start.at or end <= now:
        raise _refused("bad_time", value=args.until)
    text = args.text.strip()
    if kind == "other" and not text:
        raise _refused("needs_text")
    repo = NoticesRepo(uow.session)
    nid = await repo.create(
        kind, community, buildings, start.at, end, text, args.urgent, args.by, now
    )
    reach = await t.notices.publish(uow, nid)
    return await _told(t, uow, nid, "added", reach, args.by)


async def _end(t: Tools, uow, args: argparse.Namespace) -> dict[str, Any]:
    from storage.notice_repo import NoticesRepo

    if not await NoticesRepo(uow.session).end(args.number, t.clock.now(), args.by):
        raise _refused("not_found", code=1, number=args.number)
    reach = await t.notices.tell_change(uow, args.number, "ended")
    return await _told(t, uow, args.number, "ended", reach, args.by)


async def _extend(t: Tools, uow, args: argparse.Namespace) -> dict[str, Any]:
    from storage.notice_repo import ACTIVE, NoticesRepo

    repo = NoticesRepo(uow.session)
    record = await repo.get(args.number)
    if record is None or record.state != ACTIVE:
        raise _refused("not_found", code=1, number=args.number)
    now = t.clock.now()
    moment = parse_moment(args.until, now.astimezone(t.texts.tz))
    end = moment.at if moment else None
    if moment is not None and not moment.day_given and end <= now:
        end += timedelta(days=1)
    if end is None or not await repo.extend(args.number, end, now, args.by):
        raise _refused("bad_time", value=args.until)
    reach = await t.notices.tell_change(uow, args.number, "extended", record.view.ends_at)
    return await _told(t, uow, args.number, "extended", reach, args.by)


async def _told(t: Tools, uow, nid: int, change: str, reach, by: str) -> dict[str, Any]:
    """The operator's summary; the agents' group hears of it as of a notice made there."""
    from storage.notice_repo import NoticesRepo

    record = await NoticesRepo(uow.session).get(nid)
    ctx = {
        "notice": context(record.view, t.texts.tz),
        "change": change,
        "reach": reach.count,
        "held_until": reach.held_until,
        "agent": by,
        "now": t.clock.now(),
    }
    template = "agent_notice_published" if change == "added" else "agent_notice_changed"
    await t.outbound.write(
        uow, t.outbound.agents, Message(template, ctx), priority=PRIORITY_GROUP, purpose="alert"
    )
    return ctx


async def _list(t: Tools, uow, args: argparse.Namespace) -> dict[str, Any]:
    from storage.notice_repo import NoticesRepo

    now = t.clock.now()
    rows = await NoticesRepo(uow.session).list(active_only=not args.all, now=now)
    notices = [
        {
            **context(r.view, t.texts.tz),
            "state": r.state,
            "told": r.told,
            "created_by": r.created_by,
        }
        for r in rows
    ]
    return {"notices": notices, "now": now}


OPS = {"add": _add, "end": _end, "extend": _extend, "list": _list}


async def execute(sessionmaker, tools: Tools, args: argparse.Namespace) -> tuple[str, dict]:
    """One command in one transaction: the template and context of what to print."""
    from storage.uow import UnitOfWork

    async with UnitOfWork(sessionmaker) as uow:
        ctx = await OPS[args.op](tools, uow, args)
        await uow.commit()
    return ("cli_notice_list" if args.op == "list" else "cli_notice_result"), ctx


async def run(settings: Settings, args: argparse.Namespace) -> int:
    tools = Tools.load(settings)
    async with database(settings.database_url) as sessionmaker:
        template, ctx = await execute(sessionmaker, tools, args)
    say(tools.texts, template, ctx)
    return 0
