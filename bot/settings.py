"""Deployment settings from the environment and an optional .env; safe defaults but the token."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


@dataclass(frozen=True)
class Settings:
    bot_token: str = ""
    telegram_api_url: str = ""
    database_url: str = "sqlite+aiosqlite:///data/wuye.sqlite3"
    agent_chat_id: str = ""
    service_tz: str = "Asia/Shanghai"
    log_level: str = "INFO"
    policy_file: str = ""
    # the offline console keeps its own file: test tickets tried there never reach the real
    # bot's outbox, follow-ups or agents' group (DATABASE_URL is not used by the console)
    console_database_url: str = "sqlite+aiosqlite:///data/console.sqlite3"

    @classmethod
    def load(
        cls, env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")
    ) -> Settings:
        merged = {
            **(_read_dotenv(dotenv) if dotenv else {}),
            **(env if env is not None else os.environ),
        }

        def get(name: str, default: str) -> str:
            return (merged.get(name) or default).strip()

        return cls(
            bot_token=get("BOT_TOKEN", ""),
            telegram_api_url=get("TELEGRAM_API_URL", "").rstrip("/"),
            database_url=get("DATABASE_URL", cls.database_url),
            agent_chat_id=get("AGENT_CHAT_ID", ""),
            service_tz=get("SERVICE_TZ", cls.service_tz),
            log_level=get("LOG_LEVEL", "INFO").upper(),
            policy_file=get("POLICY_FILE", ""),
            console_database_url=get("CONSOLE_DATABASE_URL", cls.console_database_url),
        )

    def __repr__(self) -> str:  # the token never reaches a log line, even through repr
        return f"Settings(database_url={self.database_url!r}, agent_chat_id={self.agent_chat_id!r})"
