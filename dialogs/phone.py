"""Phone numbers as Telegram clients send them (+86 138…, 86-138…, spaces, dashes)."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D+")


def normalize_phone(raw: str | None) -> str:
    """Digits only, with the Chinese country code dropped, so both sides of a match agree."""
    digits = _NON_DIGITS.sub("", raw or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def mask_phone(phone: str) -> str:
    """138****5678: for logs and agents' cards where the full number is not needed."""
    d = normalize_phone(phone)
    if len(d) < 7:
        return "*" * len(d)
    return d[:3] + "*" * (len(d) - 7) + d[-4:]


def looks_like_phone(text: str) -> bool:
    d = normalize_phone(text)
    return 7 <= len(d) <= 13 and len(_NON_DIGITS.sub("", text)) >= 7
