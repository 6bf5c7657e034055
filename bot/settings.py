"""Deployment settings from the environment and an optional .env; safe defaults but the token.

Checked when loaded: a value that cannot be used (AGENT_CHAT_ID that is not a number, an unknown
SERVICE_TZ, a POLICY_FILE that is not there) stops the start with a line naming the variable,
instead of failing later in a handler. The token is a secret: it shows as ****** in any repr,
log line or error, and is read out only where the Bot is built."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, DotEnvSettingsSource, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# what Telegram accepts as a webhook secret_token
WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class SettingsError(ValueError):
    """The environment cannot be used as set; the message names each variable."""


class Settings(BaseSettings):
    # each field is read from the variable of the same name in capitals (BOT_TOKEN, …)
    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        str_strip_whitespace=True,
        env_ignore_empty=True,
        env_file_encoding="utf-8",
        hide_input_in_errors=True,
    )

    bot_token: SecretStr = SecretStr("")
    # another Bot API server (a local one, or a test server)
    telegram_api_url: str = ""
    database_url: str = "sqlite+aiosqlite:///data/wuye.sqlite3"
    # the agents' Telegram group; none: the bot serves owners only
    agent_chat_id: int | None = None
    service_tz: str = "Asia/Shanghai"
    log_level: LogLevel = "INFO"
    policy_file: FilePath | None = None
    # the offline console keeps its own file: test tickets tried there never reach the real
    # bot's outbox, follow-ups or agents' group (DATABASE_URL is not used by the console)
    console_database_url: str = "sqlite+aiosqlite:///data/console.sqlite3"
    # Telegram's limits belong to the bot, not to a process: with several instances, they keep
    # the send rates and a 429's pause in this Redis (bot/rate_limit.py); none: per process
    redis_url: str = ""
    # webhook mode when set (README: Deployment): the public address Telegram posts updates to,
    # which the proxy forwards to WEB_HOST:WEB_PORT at /telegram/webhook; long polling otherwise
    webhook_url: str = ""
    # Telegram sends it back in X-Telegram-Bot-Api-Secret-Token; required with WEBHOOK_URL
    webhook_secret: SecretStr = Field(SecretStr(""), validate_default=True)
    # the bot's HTTP server (Telegram's webhook, WeChat's callback), behind a proxy: local only
    # unless set (docker-compose.yml sets 0.0.0.0 inside its network)
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=1, le=65535)
    # WeChat 微信客服 (README: WeChat): runs when all of CORP_ID, SECRET, TOKEN, AES_KEY and
    # OPEN_KFID are set; the callback is served at /wecom/callback on WEB_HOST:WEB_PORT
    wecom_corp_id: str = ""
    wecom_secret: SecretStr = SecretStr("")
    wecom_token: SecretStr = SecretStr("")
    wecom_aes_key: SecretStr = SecretStr("")
    wecom_open_kfid: str = ""
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    # SMS codes for WeChat owners' phones (Tencent Cloud SMS SendSms; bot/sms/tencent.py)
    sms_api_url: str = "https://sms.tencentcloudapi.com"
    sms_secret_id: str = ""
    sms_secret_key: SecretStr = SecretStr("")
    sms_sdk_app_id: str = ""
    sms_sign_name: str = ""
    sms_template_id: str = ""

    @field_validator("wecom_api_url", "sms_api_url")
    @classmethod
    def _api_origin(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("should start with http:// or https://")
        return value.rstrip("/")

    @field_validator("wecom_aes_key")
    @classmethod
    def _aes_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if key and not re.fullmatch(r"[A-Za-z0-9+/]{43}", key):
            raise ValueError("should be the 43 characters of the callback's EncodingAESKey")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("should start with http:// or https://")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("should start with redis://, rediss:// or unix://")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_address(cls, value: str) -> str:
        # http:// too: a local Bot API server (TELEGRAM_API_URL) posts to plain-HTTP webhooks
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("should start with https://")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        secret = value.get_secret_value()
        if secret and not WEBHOOK_SECRET_SHAPE.fullmatch(secret):
            raise ValueError("should be 1 to 256 of A-Z a-z 0-9 _ -")
        # the two go together: a webhook nobody can authenticate, or a secret for no webhook,
        # is a mistake to say at once rather than a mode to guess
        if info.data.get("webhook_url") and not secret:
            raise ValueError("required when WEBHOOK_URL is set")
        if secret and "webhook_url" in info.data and not info.data["webhook_url"]:
            raise ValueError("set WEBHOOK_URL too, or leave this unset")
        return value

    @field_validator("service_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"no time zone {value!r}") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_other_sources):
        # Settings(...) holds what it is given and nothing else, so a test or a bench never
        # picks up the operator's real .env or AGENT_CHAT_ID; load() reads the environment
        return (init_settings,)

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
    ) -> Settings:
        """From the environment (or `env` in its place), over the .env file when there is one."""
        values: dict[str, object] = {}
        if dotenv is not None:
            values |= DotEnvSettingsSource(cls, env_file=dotenv)()
        environ = os.environ if env is None else env
        for name in cls.model_fields:
            value = environ.get(name.upper(), "")
            if value.strip():
                values[name] = value
        try:
            return cls(**values)
        except ValidationError as e:
            problems = [
                f"{'.'.join(map(str, err['loc'])).upper()}: "
                + err["msg"].removeprefix("Value error, ")
                for err in e.errors()
            ]
            raise SettingsError("; ".join(problems)) from None

    @property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)

    @property
    def wecom_enabled(self) -> bool:
        return all(
            (
                self.wecom_corp_id,
                self.wecom_secret.get_secret_value(),
                self.wecom_token.get_secret_value(),
                self.wecom_aes_key.get_secret_value(),
                self.wecom_open_kfid,
            )
        )

    @property
    def sms_enabled(self) -> bool:
        return bool(self.sms_secret_id and self.sms_secret_key.get_secret_value())

    @property
    def agent_chat(self) -> str:
        """The agents' chat as the outbox names chats (text); empty when there is none."""
        return "" if self.agent_chat_id is None else str(self.agent_chat_id)
