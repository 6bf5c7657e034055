"""`python -m bot agents …` and `python -m bot workers …`: the roster kept in the database."""

from __future__ import annotations

import argparse

from dialogs.texts import Texts
from storage.uow import UnitOfWork

from .factory import build_app
from .settings import Settings


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


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from storage.db import migrate

    await migrate(settings.database_url)
    app = build_app(settings)
    texts = Texts(settings.service_tz)
    ctx: dict = {
        "roster": args.command,
        "op": args.op,
        "ok": True,
        "agent_list": [],
        "worker_list": [],
        "item": None,
    }
    try:
        async with UnitOfWork(app.sessionmaker) as uow:
            now = app.clock.now()
            if args.command == "agents":
                if args.op == "add":
                    ctx["item"] = await uow.desk.add_agent(
                        args.telegram_user_id, args.name, args.role, now
                    )
                elif args.op == "remove":
                    ctx["ok"] = await uow.desk.remove_agent(args.telegram_user_id)
                ctx["agent_list"] = await uow.desk.agents()
            else:
                if args.op == "add":
                    ctx["item"] = await uow.desk.add_worker(
                        args.department, args.name, args.phone, args.telegram_id
                    )
                elif args.op == "remove":
                    ctx["ok"] = await uow.desk.remove_worker(args.worker_id)
                ctx["worker_list"] = await uow.desk.workers(
                    getattr(args, "department", None) if args.op == "list" else None
                )
            await uow.commit()
        print(texts.render("cli_roster", ctx))
        return 0 if ctx["ok"] else 1
    finally:
        await app.db.dispose()
