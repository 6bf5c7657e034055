"""Logging that never shows the bot token or a whole phone number, at every level.

Library loggers (httpx, aiohttp, aiogram, aiosqlite, sqlalchemy) print URLs and query
parameters; the filter sits on the root handlers, so every record passes through it."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\d{6,12}:[A-Za-z0-9_-]{30,}")
# WeCom: the access token and the corp secret travel in query strings (bot/wecom/api.py)
_QUERY_SECRET = re.compile(r"((?:access_token|corpsecret)=)[^&\s\"'<>]+")
# mainland mobile numbers with optional +86/86, spaces or dashes
_PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")


def redact(text: str, token: str = "") -> str:
    if token:
        text = text.replace(token, "<token>")
    text = _TOKEN.sub("<token>", text)
    text = _QUERY_SECRET.sub(r"\1<redacted>", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class RedactingFilter(logging.Filter):
    def __init__(self, token: str = ""):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  (a broken format string is still logged, redacted)
            message = str(record.msg)
        record.msg = redact(message, self.token)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.token)
        return True


def setup_logging(level: str, token: str = "") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(token))
    root.addHandler(handler)
    root.setLevel(getattr(logging, level, logging.INFO))
