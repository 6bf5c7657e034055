"""The operator's commands that need no Telegram (migrate, import-owners, lint-templates) and what
every command shares: a failure is one clear line from templates_zh/cli/, the database is
migrated, opened and closed. Nothing here imports aiogram, so these answer at once."""

from __future__ import annotations

import html
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TextIO

from dialogs.texts import Texts

from .settings import Settings


class StartupError(Exception):
    """A failure the operator can fix: said in one line (templates_zh/cli/), exit `code`."""

    def __init__(self, template: str, code: int = 1, **context: Any):
        super().__init__(template)
        self.template = template
        self.code = code
        self.context = context


def render(texts: Texts, template: str, context: dict[str, Any] | None = None) -> str:
    """A terminal line: the templates escape for Telegram HTML, a terminal shows plain text."""
    return html.unescape(texts.render(template, context or {}))


def say(texts: Texts, template: str, context: dict[str, Any] | None = None, *, err=False) -> None:
    print(render(texts, template, context), file=sys.stderr if err else sys.stdout)


def first_line(error: BaseException) -> str:
    """The cause in a few words: the driver's message, without SQLAlchemy's background link."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0].removeprefix("HTTP Client says - ")[:200]


def safe_url(url: str) -> str:
    """A database URL as an operator may see it: the password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001  (a malformed URL is shown as it is: it has no password)
        return url


async def migrate_database(url: str) -> None:
    """Migrations up to head; the SQLite folder is created if missing (storage/db.py)."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import migrate

    try:
        await migrate(url)
    except (OSError, SQLAlchemyError) as e:
        raise StartupError(
            "cli_database_failed", code=2, url=safe_url(url), error=first_line(e)
        ) from e


@asynccontextmanager
async def database(url: str) -> AsyncIterator[Any]:
    """A migrated database's sessionmaker, disposed of afterwards."""
    from storage.db import make_engine, make_sessionmaker

    await migrate_database(url)
    engine = make_engine(url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def read_csv_file(path: str) -> bytes:
    from storage.owner_import import read_file

    try:
        return read_file(path)
    except FileNotFoundError as e:
        raise StartupError("cli_file_missing", code=2, path=path) from e
    except OSError as e:
        raise StartupError(
            "cli_file_unreadable", code=2, path=path, error=e.strerror or str(e)
        ) from e


def _confirmed(texts: Texts, stdin: TextIO) -> bool:
    sys.stdout.flush()
    answer = (stdin.readline() or "").strip().lower()
    return answer in texts.button("console_yes").split()


async def import_owners_command(
    settings: Settings, path: str, replace: bool, yes: bool, stdin: TextIO | None = None
) -> int:
    """All or nothing. `--replace` says first whom it retires and asks (y/N) unless `--yes`."""
    from storage.owner_import import import_owners
    from storage.uow import UnitOfWork

    stdin = stdin or sys.stdin
    texts = Texts(settings.service_tz)
    raw = read_csv_file(path)
    async with database(settings.database_url) as sessionmaker:
        if replace and not yes:
            # a dry run, rolled back: the operator sees whom the file retires before anything
            # changes; no transaction stays open while they think
            async with UnitOfWork(sessionmaker) as uow:
                preview = await import_owners(uow.session, raw, replace=True)
                await uow.rollback()
            if preview.ok and preview.retired:
                say(texts, "cli_import_will_retire", {"report": preview})
                if not stdin.isatty():
                    raise StartupError("cli_confirm_needs_terminal", code=2)
                say(texts, "cli_confirm_prompt")
                if not _confirmed(texts, stdin):
                    say(texts, "cli_import_not_confirmed")
                    return 1
        async with UnitOfWork(sessionmaker) as uow:
            report = await import_owners(uow.session, raw, replace=replace)
            if report.ok:
                await uow.commit()
    say(texts, "cli_import_report", {"report": report})
    return 0 if report.ok else 1


def lint_command(settings: Settings) -> int:
    from dialogs.template_samples import lint_all

    texts = Texts(settings.service_tz)
    count, findings = lint_all(texts)
    say(texts, "cli_lint_report", {"findings": findings, "count": count})
    return 1 if findings else 0


@contextmanager
def one_scheduler(database_url: str) -> Iterator[None]:
    """On a SQLite file, this process is its only scheduler for as long as it serves (Telegram
    or WeChat alike); a second one refuses to start in one line. PostgreSQL needs no such lock."""
    if not database_url.startswith("sqlite"):
        yield
        return
    from .followups.scheduler import SchedulerLocked, SqliteSchedulerLock

    lock = SqliteSchedulerLock(database_url)
    try:
        lock.acquire()
    except SchedulerLocked as e:
        raise StartupError("cli_scheduler_locked", code=2, path=lock.path) from e
    try:
        yield
    finally:
        lock.release()
