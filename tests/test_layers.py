"""The layers go one way (DESIGN.md): the core (dialogs/, desk/) imports no channel and no
database, so a second channel or a test without Telegram needs nothing from bot/ or storage/."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(folder: str):
    """Every module a core package imports, absolute or relative, with where it is imported."""
    for path in (ROOT / folder).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    yield path, a.name
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    # a relative import cannot leave its package: only the package itself
                    yield path, folder
                elif node.module:
                    yield path, node.module


# The core is plain Python: the channels and the database depend on it, never the other way
# (DESIGN.md, layers one direction). desk/ may use dialogs/ (policy, clock); dialogs/ never desk/.
FORBIDDEN = {
    "dialogs": ("aiogram", "sqlalchemy", "storage", "bot", "desk", "httpx"),
    "desk": ("aiogram", "sqlalchemy", "storage", "bot", "httpx"),
}


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_the_core_imports_no_channel_and_no_database(folder):
    bad = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in _imports(folder)
        if name.split(".")[0] in FORBIDDEN[folder]
    ]
    assert bad == []


def test_the_import_walker_sees_what_the_boundary_forbids(tmp_path, monkeypatch):
    """The boundary test above must be able to fail: a planted import is found."""
    (tmp_path / "dialogs").mkdir()
    (tmp_path / "dialogs" / "x.py").write_text(
        "from storage.uow import UnitOfWork\nimport bot.factory\n", encoding="utf-8"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert {n for _, n in _imports("dialogs")} == {"storage.uow", "bot.factory"}
