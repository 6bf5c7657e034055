"""Settings are checked when loaded: a value that cannot be used stops the start with one line
naming the variable; the token never shows; defaults hold for everything but the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from bot.settings import Settings, SettingsError
from dialogs.policy import DEFAULT_POLICY_FILE

TOKEN = "123456:ABCdefGhIJKlmnOPQrstUVwxyz0123456789"


def test_defaults_for_everything_but_the_token():
    s = Settings.load({}, dotenv=None)
    assert s.bot_token.get_secret_value() == "" and s.agent_chat_id is None and s.agent_chat == ""
    assert s.database_url == "sqlite+aiosqlite:///data/wuye.sqlite3"
    assert s.service_tz == "Asia/Shanghai" and s.log_level == "INFO" and s.policy_file is None


def test_values_are_typed_and_tidied():
    s = Settings.load(
        {
            "AGENT_CHAT_ID": " -1001234 ",
            "LOG_LEVEL": "debug",
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "SERVICE_TZ": "",  # empty: the default, as before
        },
        dotenv=None,
    )
    assert s.agent_chat_id == -1001234 and s.agent_chat == "-1001234"
    assert s.log_level == "DEBUG" and s.telegram_api_url == "http://127.0.0.1:8081"
    assert s.service_tz == "Asia/Shanghai"


@pytest.mark.parametrize(
    "name, value",
    [
        ("AGENT_CHAT_ID", "agents"),
        ("SERVICE_TZ", "Asia/Shanghia"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_API_URL", "127.0.0.1:8081"),
        ("POLICY_FILE", "/nowhere/policy.toml"),
    ],
)
def test_a_value_that_cannot_be_used_names_its_variable(name, value):
    with pytest.raises(SettingsError) as caught:
        Settings.load({name: value}, dotenv=None)
    assert str(caught.value).startswith(f"{name}: ")


def test_the_token_never_shows():
    s = Settings.load({"BOT_TOKEN": TOKEN}, dotenv=None)
    assert s.bot_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(s) and TOKEN not in str(s) and TOKEN not in str(s.model_dump())
    with pytest.raises(SettingsError) as caught:
        Settings.load({"BOT_TOKEN": TOKEN, "AGENT_CHAT_ID": TOKEN}, dotenv=None)
    assert TOKEN not in str(caught.value)  # the input is never echoed


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f'BOT_TOKEN="{TOKEN}"\nAGENT_CHAT_ID=-100\n# a comment\nOTHER=1\n', encoding="utf-8"
    )
    s = Settings.load({"AGENT_CHAT_ID": "-200"}, dotenv=dotenv)
    assert s.bot_token.get_secret_value() == TOKEN and s.agent_chat_id == -200
    assert Settings.load({}, dotenv=tmp_path / "missing.env").agent_chat_id is None


def test_constructed_settings_take_nothing_from_the_environment(monkeypatch, tmp_path):
    """Tests and benches build Settings(...) by hand: an operator's .env or AGENT_CHAT_ID must
    not leak into them."""
    monkeypatch.setenv("AGENT_CHAT_ID", "-100999")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite+aiosqlite:///elsewhere\n")
    s = Settings(database_url="sqlite+aiosqlite:///x")
    assert s.agent_chat_id is None and s.database_url == "sqlite+aiosqlite:///x"
    assert Settings.load().agent_chat_id == -100999  # while load() reads both


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("BOT_TOKEN", "AGENT_CHAT_ID", "POLICY_FILE", "LOG_LEVEL", "SERVICE_TZ"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'ops.sqlite3'}")


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_the_start_names_a_bad_variable_in_one_line(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("AGENT_CHAT_ID", "客服群")
    assert main(["migrate"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "AGENT_CHAT_ID" in line and "环境设置有误" in line


def test_the_start_names_a_policy_typo_in_one_line(clean_env, monkeypatch, capsys, tmp_path):
    policy = tmp_path / "policy.toml"
    text = Path(DEFAULT_POLICY_FILE).read_text(encoding="utf-8")
    policy.write_text(text.replace("grab_urgent = true", "grab_urgnet = true"), encoding="utf-8")
    monkeypatch.setenv("POLICY_FILE", str(policy))
    assert main(["agents", "list"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "desk.grab_urgnet" in line and str(policy) in line


def test_webhook_mode_needs_an_address_and_a_secret_of_telegrams_shape():
    s = Settings.load({}, dotenv=None)
    assert not s.webhook_mode and (s.web_host, s.web_port) == ("127.0.0.1", 8080)
    url = "https://bot.example.com/telegram/webhook"
    secret = "A-z_09" * 40  # 240 characters
    s = Settings.load(
        {"WEBHOOK_URL": url, "WEBHOOK_SECRET": secret, "WEB_PORT": "8443"}, dotenv=None
    )
    assert s.webhook_mode and s.webhook_secret.get_secret_value() == secret and s.web_port == 8443
    assert secret not in repr(s)
    refused = [
        ({"WEBHOOK_URL": url}, "WEBHOOK_SECRET"),  # nobody could prove to be Telegram
        ({"WEBHOOK_SECRET": "abc"}, "WEBHOOK_SECRET"),  # a secret for no webhook
        ({"WEBHOOK_URL": url, "WEBHOOK_SECRET": "with space"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": url, "WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": url, "WEBHOOK_SECRET": "密钥"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "bot.example.com", "WEBHOOK_SECRET": "abc"}, "WEBHOOK_URL"),
        ({"WEB_PORT": "70000"}, "WEB_PORT"),
    ]
    for env, name in refused:
        with pytest.raises(SettingsError) as caught:
            Settings.load(env, dotenv=None)
        assert str(caught.value).startswith(f"{name}: "), env
        assert "with space" not in str(caught.value)  # the input is never echoed
