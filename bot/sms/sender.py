"""The transport boundary for verification codes: what a provider is asked, and what it answers.
The identity step depends on this Protocol only, so tests and a second provider plug in here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SmsResult:
    """Whether the provider accepted the message; when not, its reason (the provider's error
    code, e.g. "LimitExceeded.PhoneNumberDailyLimit", or "network"). The request id is the
    provider's, for asking its support about one message."""

    ok: bool
    reason: str | None = None
    request_id: str | None = None


class SmsSender(Protocol):
    async def send_code(self, phone_e164: str, code: str) -> SmsResult:
        """Send `code` to `phone_e164` (+8613800000301). Never raises for a refusal or a network
        failure: the result says so."""
        ...


def mask_phone(phone: str) -> str:
    """All but the last 4 digits hidden, for logs: +86*******0301."""
    digits = sum(ch.isdigit() for ch in phone)
    out, seen = [], 0
    for ch in phone:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 4 else "*")
        else:
            out.append(ch)
    return "".join(out)
