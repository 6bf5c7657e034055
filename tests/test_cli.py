import subprocess
import sys
from pathlib import Path

from bot.paths import SAMPLE_OWNERS

ROOT = Path(__file__).resolve().parent.parent


def run(args, tmp_path, **kw):
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        # the console keeps its own database (data/console.sqlite3 by default)
        "CONSOLE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.sqlite3'}",
        "PATH": "/usr/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def test_import_owners_cli_reports_and_refuses_gbk(tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(
        "building,unit,room,name,salutation,phone\n3,1,3A,王芳,女士,13800000301\n".encode("gbk")
    )
    r = run(["import-owners", str(gbk)], tmp_path)
    assert r.returncode == 1 and "UTF-8" in r.stdout
    r = run(["import-owners", str(SAMPLE_OWNERS)], tmp_path)
    assert r.returncode == 0 and "新增房屋10套" in r.stdout
    r = run(["import-owners", str(SAMPLE_OWNERS)], tmp_path)
    assert "新增房屋0套" in r.stdout


def test_roster_cli(tmp_path):
    r = run(["agents", "add", "7001", "小林", "--role", "supervisor"], tmp_path)
    assert r.returncode == 0 and "主管" in r.stdout
    r = run(["workers", "add", "保洁", "李阿姨", "--phone", "13900000002"], tmp_path)
    assert "保洁" in r.stdout and "李阿姨" in r.stdout
    r = run(["agents", "remove", "7001"], tmp_path)
    assert r.returncode == 0 and "（0人）" in r.stdout


def test_console_runs_offline_with_piped_input(tmp_path):
    script = "y\n/contact 13800000301\n1\n1\n/quit\n"
    r = run(["console"], tmp_path, input=script)
    assert r.returncode == 0, r.stderr
    assert "您是阳光花园3栋1单元3A室的王女士，对吗？" in r.stdout
    assert "需要维修的位置" in r.stdout


def test_the_agent_on_duty_is_set_on_the_roster_and_named_from_it(tmp_path):
    """The person named to an owner is a real one: the roster's agent on duty, never a name
    from the policy file."""
    import asyncio

    from storage.db import make_engine, make_sessionmaker
    from storage.uow import UnitOfWork

    assert run(["agents", "add", "7001", "小林"], tmp_path).returncode == 0
    assert run(["agents", "add", "7002", "小王"], tmp_path).returncode == 0
    r = run(["agents", "duty", "7002", "on"], tmp_path)
    assert r.returncode == 0 and "小王  客服  值班中" in r.stdout

    async def named() -> str:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
        try:
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                return await uow.handoffs.duty_agent()
        finally:
            await engine.dispose()

    assert asyncio.run(named()) == "小王"
    assert run(["agents", "duty", "7002", "off"], tmp_path).returncode == 0
    assert asyncio.run(named()) == ""
