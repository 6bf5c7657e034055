"""`python -m bot agents …` and `python -m bot workers …`: the roster kept in the database.

Arguments are checked before the database is opened: a Telegram id is a number, a department is
one the policy has, a phone is a valid mainland China or Hong Kong number (stored canonical, as
dialogs/phone.py writes it). Someone already on the roster is said so, and nothing changes."""

from __future__ import annotations

import argparse
import re
from types import SimpleNamespace

from dialogs.clock import SystemClock
from dialogs.phone import normalize_phone
from dialogs.policy import Policy
from dialogs.texts import Texts

from .cli import StartupError, database, say
from .settings import Settings

_TELEGRAM_ID = re.compile(r"^[1-9]\d{0,15}$")


def add_parsers(sub) -> None:
    ag = sub.add_parser("agents", help="the agents' roster").add_subparsers(
        dest="op", required=True
    )
    a = ag.add_parser("add")
    a.add_argument("telegram_user_id")
    a.add_argument("name")
    a.add_argument("--role", choices=["agent", "supervisor"], default="agent")
    ag.add_parser("list")
    r = ag.add_parser("remove")
    r.add_argument("telegram_user_id")
    # the agent on duty is the one named to owners when no handler owns their matter yet
    du = ag.add_parser("duty")
    du.add_argument("telegram_user_id")
    du.add_argument("state", choices=["on", "off"])
    wk = sub.add_parser("workers", help="workers per department").add_subparsers(
        dest="op", required=True
    )
    w = wk.add_parser("add")
    w.add_argument("department")
    w.add_argument("name")
    w.add_argument("--phone", default="")
    w.add_argument("--telegram-id", default=None)
    wl = wk.add_parser("list")
    wl.add_argument("--department", default=None)
    wr = wk.add_parser("remove")
    wr.add_argument("worker_id", type=int)


def _telegram_id(value: str) -> str:
    value = value.strip()
    if not _TELEGRAM_ID.match(value):
        raise StartupError("cli_bad_telegram_id", code=2, value=value)
    return value


def check_args(args: argparse.Namespace, policy: Policy) -> None:
    """Refuse what cannot be right before anything is opened; phones become canonical."""
    if args.command == "agents" and args.op in ("add", "remove", "duty"):
        args.telegram_user_id = _telegram_id(args.telegram_user_id)
    if args.command != "workers":
        return
    department = getattr(args, "department", None)
    if department is not None and department not in policy.departments:
        raise StartupError(
            "cli_unknown_department",
            code=2,
            department=department,
            departments=policy.departments,
        )
    if args.op == "add":
        if args.phone:
            phone = normalize_phone(args.phone)
            if phone is None:
                raise StartupError("cli_bad_phone", code=2, value=args.phone)
            args.phone = phone
        if args.telegram_id is not None:
            args.telegram_id = _telegram_id(args.telegram_id)


def _snapshot(row) -> SimpleNamespace:
    """The row's columns as they are now: the message is written after the session is gone."""
    return SimpleNamespace(**{c.key: getattr(row, c.key) for c in row.__table__.columns})


def _same_worker(w, args: argparse.Namespace) -> bool:
    """One person once per department: the same name, phone or Telegram account there."""
    return w.department == args.department and bool(
        w.name == args.name
        or (args.phone and w.phone == args.phone)
        or (args.telegram_id and w.telegram_user_id == args.telegram_id)
    )


async def _agents(uow, args: argparse.Namespace, ctx: dict) -> None:
    if args.op == "add":
        for a in await uow.staff.agents():
            if a.telegram_user_id == args.telegram_user_id:
                raise StartupError("cli_agent_duplicate", item=_snapshot(a))
        now = SystemClock().now()
        ctx["item"] = await uow.staff.add_agent(args.telegram_user_id, args.name, args.role, now)
    elif args.op == "remove":
        ctx["ok"] = await uow.staff.remove_agent(args.telegram_user_id)
    elif args.op == "duty":
        ctx["ok"] = await uow.staff.set_on_duty(args.telegram_user_id, args.state == "on")
    ctx["agent_list"] = await uow.staff.agents()


async def _workers(uow, args: argparse.Namespace, ctx: dict) -> None:
    if args.op == "add":
        for w in await uow.staff.workers(args.department):
            if _same_worker(w, args):
                raise StartupError("cli_worker_duplicate", item=_snapshot(w))
        ctx["item"] = await uow.staff.add_worker(
            args.department, args.name, args.phone, args.telegram_id
        )
    elif args.op == "remove":
        ctx["ok"] = await uow.staff.remove_worker(args.worker_id)
    ctx["worker_list"] = await uow.staff.workers(args.department if args.op == "list" else None)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from storage.uow import UnitOfWork

    texts = Texts(settings.service_tz)
    check_args(args, Policy.load(settings.policy_file or None))
    ctx: dict = {
        "roster": args.command,
        "op": args.op,
        "ok": True,
        "agent_list": [],
        "worker_list": [],
        "item": None,
    }
    async with database(settings.database_url) as sessionmaker, UnitOfWork(sessionmaker) as uow:
        await (_agents if args.command == "agents" else _workers)(uow, args, ctx)
        await uow.commit()
    say(texts, "cli_roster", ctx)
    return 0 if ctx["ok"] else 1
