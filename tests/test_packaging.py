"""A regular install (a wheel, not `pip install -e`) carries every module, template and data file,
and runs outside the source tree. The wheel is built once per session (a few seconds)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "desk", "dialogs", "storage", "templates_zh")
# what the source tree holds besides the packages; a wheel built from a copy without them proves
# nothing of the project is read from there at run time
NOT_SHIPPED = {".venv", ".git", ".ci", ".pytest_cache", ".ruff_cache", "build", "data", "tests"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if Path(folder) == ROOT:
        skipped |= NOT_SHIPPED & set(names)
    return skipped


def _source_files(*patterns: str) -> set[str]:
    return {
        p.relative_to(ROOT).as_posix()
        for pkg in PACKAGES
        for pattern in patterns
        for p in (ROOT / pkg).rglob(pattern)
        if "__pycache__" not in p.parts
    }


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    # built from a copy: building in place writes build/ and *.egg-info into the work tree
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(ROOT, src, ignore=_ignore, dirs_exist_ok=True)
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--quiet", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel unpacked by pip into a folder of its own; the dependencies come from the running
    venv, the project itself only from there."""
    site = tmp_path_factory.mktemp("site")
    r = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site)]
        + [str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return site


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": str(site),
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'bot.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_the_wheel_holds_every_module_template_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _source_files("*.py", "*.j2", "*.toml", "*.csv", "*.mako")
    assert expected - names == set()
    for must in (
        "bot/routers/agents.py",
        "bot/desk/cards.py",
        "bot/followups/scheduler.py",
        "bot/runner.py",
        "bot/samples/owners.csv",
        "desk/__init__.py",
        "dialogs/flows/menu.py",
        "dialogs/data/policy.toml",
        "storage/migrations/env.py",
        "storage/migrations/script.py.mako",
        "storage/migrations/versions/0001_initial_schema.py",
        "templates_zh/owner/menu.j2",
        "templates_zh/agent/agent_card.j2",
        "templates_zh/shared/_macros.j2",
        "templates_zh/shared/labels.toml",
    ):
        assert must in names, must
    assert not any(n.startswith(("tests/", "bench/", "data/")) for n in names)


def test_the_installed_package_runs_outside_the_source_tree(installed, tmp_path):
    r = _run(
        installed,
        tmp_path,
        "-c",
        "import bot, desk, dialogs, storage, templates_zh\n"
        "for m in (bot, desk, dialogs, storage, templates_zh): print(m.__file__)",
    )
    assert r.returncode == 0, r.stderr
    for line in r.stdout.split():
        assert Path(line).is_relative_to(installed), line

    r = _run(installed, tmp_path, "-m", "bot", "lint-templates")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "全部通过" in r.stdout

    # the migrations and the sample registry the console offers come from the install too
    r = _run(installed, tmp_path, "-m", "bot", "migrate")
    assert r.returncode == 0, r.stdout + r.stderr
    sample = installed / "bot" / "samples" / "owners.csv"
    r = _run(installed, tmp_path, "-m", "bot", "import-owners", str(sample))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "新增房屋10套" in r.stdout
