"""python -m bot [run|console|migrate|import-owners FILE [--replace]|lint-templates]

With no command: long polling when BOT_TOKEN is set, the offline console chat otherwise."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from .log_redaction import setup_logging
from .settings import Settings

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="long polling (needs BOT_TOKEN)")
    sub.add_parser("console", help="offline console chat on the embedded database")
    sub.add_parser("migrate", help="apply database migrations")
    imp = sub.add_parser("import-owners", help="load the owner registry from CSV")
    imp.add_argument("file")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="retire owners missing from the file (their tickets stay)",
    )
    sub.add_parser("lint-templates", help="check every template against the polite-language rules")
    from .roster_cli import add_parsers

    add_parsers(sub)
    return p


async def _migrate(settings: Settings) -> None:
    from storage.db import migrate

    await migrate(settings.database_url)


async def _run_polling(settings: Settings) -> None:
    from .factory import build_app, build_bot, build_dispatcher
    from .followups.scheduler import Scheduler, SchedulerLocked, SqliteSchedulerLock

    await _migrate(settings)
    lock = None
    if settings.database_url.startswith("sqlite"):
        lock = SqliteSchedulerLock(settings.database_url)
        try:
            lock.acquire()
        except SchedulerLocked as e:
            print(str(e), file=sys.stderr)
            raise SystemExit(2) from None
    app = build_app(settings)
    bot = build_bot(settings)
    dp, sender = build_dispatcher(app, bot)
    scheduler = Scheduler(app.sessionmaker, app.desk, wake_sender=sender.wake)
    sender_task = asyncio.create_task(sender.run())
    ticker_task = asyncio.create_task(_desk_ticker(app, sender))
    scheduler_task = asyncio.create_task(scheduler.run())
    try:
        log.info("bot starting (long polling)")
        await dp.start_polling(bot, handle_signals=True)
    finally:
        sender.stop()
        scheduler.stop()
        ticker_task.cancel()
        scheduler_task.cancel()
        await sender_task
        if lock is not None:
            lock.release()
        await bot.session.close()
        await app.db.dispose()


async def _desk_ticker(app, sender, every: float = 20.0) -> None:
    """Owners left waiting for a person get their polite update (bot/desk/relay.py)."""
    from datetime import timedelta

    from storage.uow import UnitOfWork

    from .desk.relay import nudge_waiting

    while True:
        try:
            async with UnitOfWork(app.sessionmaker) as uow:
                nudged = await nudge_waiting(app.desk, uow)
                await uow.accounts.prune_updates(app.clock.now() - timedelta(days=2))
                await uow.commit()
                if nudged:
                    sender.wake()
        except Exception:
            log.exception("desk ticker error")
        await asyncio.sleep(every)


async def _console(settings: Settings) -> None:
    from .console import run_console
    from .factory import build_app

    await _migrate(settings)
    app = build_app(settings)
    try:
        await run_console(app)
    finally:
        await app.db.dispose()


async def _import(settings: Settings, path: str, replace: bool) -> int:
    from dialogs.texts import Texts
    from storage.owner_import import import_owners, read_file
    from storage.uow import UnitOfWork

    from .factory import build_app

    await _migrate(settings)
    app = build_app(settings)
    try:
        async with UnitOfWork(app.sessionmaker) as uow:
            report = await import_owners(uow.session, read_file(path), replace=replace)
            if report.ok:
                await uow.commit()
        print(Texts(settings.service_tz).render("cli_import_report", {"report": report}))
        return 0 if report.ok else 1
    finally:
        await app.db.dispose()


def _lint(settings: Settings) -> int:
    from dialogs.template_samples import lint_all
    from dialogs.texts import Texts

    texts = Texts(settings.service_tz)
    count, findings = lint_all(texts)
    print(texts.render("cli_lint_report", {"findings": findings, "count": count}))
    return 1 if findings else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.load()
    # the console prints to the same terminal: keep library chatter out of the chat
    quiet = args.command in (
        "console",
        "import-owners",
        "lint-templates",
        "migrate",
        "agents",
        "workers",
    ) or (args.command is None and not settings.bot_token)
    setup_logging(
        "WARNING" if quiet and settings.log_level == "INFO" else settings.log_level,
        settings.bot_token,
    )
    command = args.command or ("run" if settings.bot_token else "console")
    if command == "run":
        if not settings.bot_token:
            print(
                "BOT_TOKEN is not set; use `python -m bot console` to try offline.", file=sys.stderr
            )
            return 2
        asyncio.run(_run_polling(settings))
        return 0
    if command == "console":
        asyncio.run(_console(settings))
        return 0
    if command == "migrate":
        asyncio.run(_migrate(settings))
        return 0
    if command == "import-owners":
        return asyncio.run(_import(settings, args.file, args.replace))
    if command == "lint-templates":
        return _lint(settings)
    if command in ("agents", "workers"):
        from .roster_cli import run

        return asyncio.run(run(settings, args))
    return 2


if __name__ == "__main__":
    sys.exit(main())
