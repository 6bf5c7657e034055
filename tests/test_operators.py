"""What an operator meets: start-up failures as one clear line, nothing sent before the token is
known good, the console on its own database, the roster and registry commands refusing bad input,
and the commands that need no Telegram never importing aiogram."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.__main__ import main
from bot.cli import StartupError
from bot.paths import SAMPLE_OWNERS
from bot.settings import Settings
from dialogs.clock import SystemClock
from storage.db import make_engine, make_sessionmaker
from storage.models import Agent, OutboxMessage, Owner, Worker
from storage.uow import UnitOfWork

from .e2e_support import TOKEN
from .fake_bot_api import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = SAMPLE_OWNERS


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """main() in-process on a temp database; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("BOT_TOKEN", "TELEGRAM_API_URL", "CONSOLE_DATABASE_URL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)

    def run(*args: str, stdin=None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", stdin)
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    run.url = url
    return run


async def rows(url: str, model, *where):
    engine = make_engine(url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            return list(await uow.session.scalars(sa.select(model).where(*where)))
    finally:
        await engine.dispose()


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


# --- 1. start-up failures: one line, non-zero, no traceback -------------------------------------
def test_malformed_token_is_one_line(cli, monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", "not-a-token")
    code, _, err = cli("run")
    assert code == 2 and "BOT_TOKEN" in one_line(err)


def test_traceback_only_with_debug_log_level(cli, monkeypatch):
    monkeypatch.setenv("BOT_TOKEN", "not-a-token")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    code, _, err = cli("run")
    assert code == 2 and "Traceback" in err and "TokenValidationError" in err


def test_missing_database_folder_is_created(cli, monkeypatch, tmp_path):
    db = tmp_path / "not" / "yet" / "there.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    code, _, err = cli("migrate")
    assert code == 0, err
    assert db.is_file()


def test_database_that_cannot_be_opened_is_one_line(cli, monkeypatch, tmp_path):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'afile' / 'db.sqlite3'}")
    code, _, err = cli("agents", "list")
    assert code == 2 and "DATABASE_URL" in one_line(err)


def test_import_owners_missing_file_is_one_line(cli, tmp_path):
    code, out, err = cli("import-owners", str(tmp_path / "nope.csv"))
    assert code == 2 and "nope.csv" in one_line(err) and out == ""


def _seed_outbox(url: str) -> None:
    async def seed():
        engine = make_engine(url)
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            await uow.outbox.add(
                "4242",
                {"text": "pending"},
                SystemClock().now() - timedelta(minutes=5),
                channel="telegram",
            )
            await uow.commit()
        await engine.dispose()

    return seed()


async def test_refused_token_sends_nothing_and_keeps_pending(migrated_url, capsys):
    from bot.polling import run_polling

    api = FakeBotAPI("111111111:AAHsomeOTHERtokenSOMEotherTOKENsome1")
    await api.start()
    await _seed_outbox(migrated_url)
    settings = Settings(bot_token=TOKEN, telegram_api_url=api.url, database_url=migrated_url)
    try:
        with pytest.raises(StartupError) as e:
            await run_polling(settings, retry_delays=(0, 0), handle_signals=False)
    finally:
        await api.stop()
    assert e.value.template == "cli_token_refused" and e.value.code == 2
    assert api.calls == []
    (row,) = await rows(migrated_url, OutboxMessage)
    assert (row.state, row.attempts) == ("pending", 0)


async def test_unreachable_server_is_retried_with_lines_then_given_up(migrated_url, capsys):
    from bot.polling import run_polling

    api = FakeBotAPI(TOKEN)
    await api.start()
    await api.stop()  # nothing listens there any more
    await _seed_outbox(migrated_url)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    settings = Settings(bot_token=TOKEN, telegram_api_url=api.url, database_url=migrated_url)
    with pytest.raises(StartupError) as e:
        await run_polling(settings, retry_delays=(1, 2, 4), sleep=sleep, handle_signals=False)
    assert e.value.template == "cli_telegram_unreachable" and e.value.code == 3
    assert waits == [1, 2, 4]
    retry_lines = capsys.readouterr().err.strip().splitlines()
    assert len(retry_lines) == 3 and all(api.url in ln for ln in retry_lines)
    (row,) = await rows(migrated_url, OutboxMessage)
    assert row.state == "pending"


async def test_sender_starts_only_after_getme_succeeded(migrated_url, capsys):
    from bot.polling import run_polling

    api = FakeBotAPI(TOKEN)
    await api.start()
    bad_gateway = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    api.failures["getMe"] = [bad_gateway, bad_gateway]
    await _seed_outbox(migrated_url)
    settings = Settings(bot_token=TOKEN, telegram_api_url=api.url, database_url=migrated_url)
    ready = []
    task = asyncio.create_task(
        run_polling(settings, retry_delays=(0, 0, 0), handle_signals=False, on_ready=ready.append)
    )
    try:
        for _ in range(200):
            if any(m == "sendMessage" for m, _ in api.calls):
                break
            await asyncio.sleep(0.05)
        methods = [m for m, _ in api.calls]
        # deleteWebhook: polling mode leaves webhook mode (bot/acked_polling.py)
        assert methods[:5] == ["getMe!502", "getMe!502", "getMe", "deleteWebhook", "sendMessage"]
    finally:
        while not task.done():
            try:
                await ready[0].stop()
            except IndexError:
                await asyncio.sleep(0.05)
                continue
            break
        await asyncio.wait_for(task, 10)
        await api.stop()
    (row,) = await rows(migrated_url, OutboxMessage)
    assert row.state == "sent"


async def test_a_401_while_sending_leaves_the_message_pending(migrated_url):
    from aiogram import Bot

    from bot.factory import build_bot
    from bot.outbox_sender import OutboxSender

    api = FakeBotAPI("111111111:AAHsomeOTHERtokenSOMEotherTOKENsome1")
    await api.start()
    await _seed_outbox(migrated_url)
    bot: Bot = build_bot(Settings(bot_token=TOKEN, telegram_api_url=api.url))
    engine = make_engine(migrated_url)
    try:
        sender = OutboxSender(make_sessionmaker(engine), bot, SystemClock())
        assert await sender.deliver() == 0
        assert await sender.deliver() == 0  # paused: the token is not tried again at once
    finally:
        await bot.session.close()
        await engine.dispose()
        await api.stop()
    (row,) = await rows(migrated_url, OutboxMessage)
    assert (row.state, row.attempts) == ("pending", 0)
    assert row.error.startswith("401")


# --- 3. the console: its own database, any input, resumes where it stopped ----------------------
def test_console_uses_its_own_database(tmp_path):
    main_db, console_db = tmp_path / "main.sqlite3", tmp_path / "console.sqlite3"
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite+aiosqlite:///{main_db}",
        "CONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{console_db}",
    }
    r = subprocess.run(  # noqa: PLW1510  (the exit code is asserted)
        [sys.executable, "-m", "bot", "console"],
        cwd=ROOT,
        env=env,
        input="y\n/quit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert console_db.is_file() and not main_db.exists()
    assert str(console_db) in r.stdout
    assert Settings.load({}, dotenv=None).console_database_url.endswith("data/console.sqlite3")


def test_console_survives_a_paste_cut_mid_character(tmp_path):
    cut = "厨房漏".encode()[:-1]  # the last character's bytes cut in half
    script = b"y\n/contact 13800000301\n1\n1\n1\n1\n" + cut + b"\n1\n1\n1\n1\n1\n/quit\n"
    for io_encoding in ("utf-8:surrogateescape", "utf-8:strict"):
        db = tmp_path / f"console-{io_encoding[6:]}.sqlite3"
        r = subprocess.run(  # noqa: PLW1510  (the exit code is asserted)
            [sys.executable, "-m", "bot", "console"],
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "CONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
                "PYTHONIOENCODING": io_encoding,
            },
            input=script,
            capture_output=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        assert "厨房\ufffd".encode() in r.stdout


async def test_console_relaunched_resumes_where_the_owner_was(migrated_url, monkeypatch, capsys):
    from bot.console import run_console
    from bot.factory import build_app
    from dialogs.texts import Texts

    texts = Texts()
    app = build_app(Settings(database_url=migrated_url))
    try:
        monkeypatch.setattr(sys, "stdin", io.StringIO("y\n/contact 13800000301\n1\n1\n/quit\n"))
        await run_console(app)
        first = capsys.readouterr().out
        where = first.rsplit("> ", 2)[-2]  # the last question before /quit
        monkeypatch.setattr(sys, "stdin", io.StringIO("/quit\n"))
        await run_console(app)
        second = capsys.readouterr().out
    finally:
        await app.db.dispose()
    resumed = texts.render("console_resumed")
    assert resumed in second
    assert where.strip() and where.strip() in second.split(resumed, 1)[1]
    async with UnitOfWork(app.sessionmaker) as uow:
        state = (
            await uow.accounts.open_conversation(
                "console", "local", "console", "", SystemClock().now()
            )
        ).state
    assert state["flow"] == "repair"


# --- 4. the roster and the registry refuse what cannot be right ---------------------------------
def test_agents_add_refuses_non_numeric_id_and_reports_duplicates(cli):
    code, _, err = cli("agents", "add", "xiaolin", "小林")
    assert code == 2 and "xiaolin" in one_line(err)
    assert cli("agents", "add", "7001", "小林")[0] == 0
    code, out, err = cli("agents", "add", "7001", "小王", "--role", "supervisor")
    assert code == 1 and "7001" in one_line(err) and out == ""
    (agent,) = asyncio.run(rows(cli.url, Agent))
    assert (agent.name, agent.role) == ("小林", "agent")


def test_workers_add_checks_department_phone_and_duplicates(cli):
    code, _, err = cli("workers", "add", "水电部", "张师傅")
    assert code == 2 and "工程部" in one_line(err)
    code, _, err = cli("workers", "add", "工程部", "张师傅", "--phone", "1390000")
    assert code == 2 and "1390000" in one_line(err)
    code, _, err = cli("workers", "add", "工程部", "张师傅", "--telegram-id", "@zhang")
    assert code == 2
    code, out, _ = cli("workers", "add", "工程部", "张师傅", "--phone", "+86 139-0000-0001")
    assert code == 0 and "13900000001" in out
    code, out, err = cli("workers", "add", "工程部", "张师傅")
    assert code == 1 and "张师傅" in one_line(err) and out == ""
    code, _, _ = cli("workers", "add", "保洁", "张师傅")  # another department: another job
    assert code == 0
    workers = asyncio.run(rows(cli.url, Worker))
    assert [(w.department, w.phone) for w in workers] == [("工程部", "13900000001"), ("保洁", "")]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_import_replace_asks_before_retiring(cli, tmp_path):
    assert cli("import-owners", str(SAMPLE))[0] == 0
    short = tmp_path / "short.csv"
    short.write_text(
        "building,unit,room,name,salutation,phone\n3,1,3A,王芳,女士,13800000301\n",
        encoding="utf-8",
    )
    active = lambda: len(asyncio.run(rows(cli.url, Owner, Owner.active)))
    before = active()
    code, out, err = cli("import-owners", str(short), "--replace", stdin=io.StringIO("y\n"))
    assert code == 2 and "--yes" in one_line(err)  # not a terminal: refused
    assert str(before - 1) in out and active() == before
    code, out, _ = cli("import-owners", str(short), "--replace", stdin=_Terminal("n\n"))
    assert code == 1 and active() == before
    code, out, _ = cli("import-owners", str(short), "--replace", stdin=_Terminal("y\n"))
    assert code == 0 and active() == 1
    assert cli("import-owners", str(SAMPLE))[0] == 0
    code, out, _ = cli("import-owners", str(short), "--replace", "--yes", stdin=io.StringIO(""))
    assert code == 0 and active() == 1


def test_import_replace_with_nothing_to_retire_does_not_ask(cli):
    assert cli("import-owners", str(SAMPLE))[0] == 0
    code, _, err = cli("import-owners", str(SAMPLE), "--replace", stdin=io.StringIO(""))
    assert code == 0 and err == ""


# --- 5. commands that need no Telegram do not import aiogram ------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["agents", "list"],
        ["workers", "list"],
        ["migrate"],
        ["lint-templates"],
        ["import-owners", str(SAMPLE)],
    ],
)
def test_operator_commands_do_not_import_aiogram(args, tmp_path):
    r = subprocess.run(  # noqa: PLW1510  (the exit code is asserted)
        [sys.executable, "-X", "importtime", "-m", "bot", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    imported = [ln.rsplit("|", 1)[-1].strip() for ln in r.stderr.splitlines() if "|" in ln]
    assert "dialogs.texts" in imported  # the import log is really there
    assert not [m for m in imported if m.startswith(("aiogram", "aiohttp"))]
