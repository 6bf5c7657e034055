"""`python -m bot notice …`: what an operator meets. A notice is checked against the registry,
queued in the outbox for the verified owners it affects, listed and ended; bad input is one
line and a non-zero exit; the command never imports aiogram."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.__main__ import main
from bot.paths import SAMPLE_OWNERS
from dialogs.clock import FakeClock
from storage.db import make_engine, make_sessionmaker
from storage.models import Notice, OutboxMessage
from storage.uow import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("BOT_TOKEN", "TELEGRAM_API_URL", "LOG_LEVEL", "AGENT_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    # Monday 10:00 in Shanghai, outside quiet hours: what is queued is due at once
    monkeypatch.setattr("bot.notice_cli.SystemClock", lambda: FakeClock(MONDAY_10))
    run.url = url
    return run


async def _in_db(url: str, work):
    engine = make_engine(url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            result = await work(uow)
            await uow.commit()
            return result
    finally:
        await engine.dispose()


def verified_owner(url: str, phone: str, chat: str) -> None:
    async def work(uow):
        acc = await uow.accounts.get_or_create("telegram", chat, chat, "x", MONDAY_10)
        acc.phone, acc.phone_verified = phone, True

    asyncio.run(_in_db(url, work))


def outbox(url: str) -> list[OutboxMessage]:
    async def work(uow):
        return list(await uow.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))

    return asyncio.run(_in_db(url, work))


def sent_by_the_bot(url: str) -> None:
    async def work(uow):
        await uow.session.execute(sa.update(OutboxMessage).values(state="sent"))

    asyncio.run(_in_db(url, work))


def tomorrow(hm: str) -> str:
    return f"2026-11-24 {hm}"


def test_add_list_end(cli):
    assert cli("import-owners", str(SAMPLE_OWNERS))[0] == 0
    verified_owner(cli.url, "13800000301", "3001")  # 3栋
    verified_owner(cli.url, "13800000501", "5001")  # 5栋
    code, out, _ = cli(
        "notice", "add", "--kind", "停水", "--buildings", "3",
        "--from", tomorrow("14:00"), "--until", "18:00", "--text", "请您提前储水。",
    )  # fmt: skip
    assert code == 0, out
    assert "公告#1已发布：【阳光花园】3栋明天14:00至18:00计划停水，预计18:00恢复供水。" in out
    assert "已为1位业主写入发送队列" in out
    rows = outbox(cli.url)
    assert [r.chat_id for r in rows] == ["3001"] and rows[0].purpose == "notice"
    assert "王女士，您好！" in rows[0].payload["text"] and "&lt;" not in rows[0].payload["text"]
    code, out, _ = cli("notice", "list")
    assert code == 0 and "#1  生效中" in out and "已通知1位业主" in out and "（cli）" in out
    sent_by_the_bot(cli.url)
    code, out, _ = cli("notice", "end", "1")
    assert code == 0 and "公告#1已结束：【阳光花园】3栋停水。" in out
    rows = outbox(cli.url)
    assert [r.chat_id for r in rows] == ["3001", "3001"]  # the same owner only
    assert "王女士，您好！【阳光花园】3栋的停水已提前结束" in rows[1].payload["text"]
    assert cli("notice", "list")[1].strip() == "没有公告。"
    assert "#1  已结束" in cli("notice", "list", "--all")[1]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--kind", "flood"], "公告类型“flood”不可用，可选：water、power"),
        (["--kind", "water", "--community", "明月小区"], "小区“明月小区”不在业主名单中"),
        (["--kind", "water", "--buildings", "3,9"], "楼栋“9”不在该小区中，可选：1、3、5"),
        (["--kind", "water", "--until", "2020-01-01 08:00"], "时间“2020-01-01 08:00”无法识别"),
        (["--kind", "other"], "“其他”类公告请用 --text 写明公告内容"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(cli, args, said):
    assert cli("import-owners", str(SAMPLE_OWNERS))[0] == 0
    base = {"--from": tomorrow("08:00"), "--until": tomorrow("12:00")}
    argv = ["notice", "add", *args]
    for flag, value in base.items():
        if flag not in args:
            argv += [flag, value]
    code, _, err = cli(*argv)
    assert code == 2 and said in err and len(err.strip().splitlines()) == 1

    async def notices(uow):
        return list(await uow.session.scalars(sa.select(Notice)))

    assert asyncio.run(_in_db(cli.url, notices)) == []


def test_ending_an_unknown_notice_says_so(cli):
    code, _, err = cli("notice", "end", "7")
    assert code == 1 and "没有找到生效中的公告#7" in err


@pytest.mark.parametrize(
    "args",
    [
        ["notice", "list"],
        ["notice", "end", "3"],
        ["notice", "add", "--kind", "water", "--from", "08:00", "--until", "23:59"],
    ],
)
def test_the_notice_command_does_not_import_aiogram(args, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: PLW1510  (the exit code is asserted)
            [sys.executable, "-X", "importtime", "-m", "bot", *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("import-owners", str(SAMPLE_OWNERS)).returncode == 0
    r = run(*args)
    assert r.returncode in (0, 1, 2), r.stderr[-2000:]
    imported = [ln.rsplit("|", 1)[-1].strip() for ln in r.stderr.splitlines() if "|" in ln]
    assert "bot.notices" in imported  # the import log is really there, and the command ran
    assert not [m for m in imported if m.startswith(("aiogram", "aiohttp"))]
