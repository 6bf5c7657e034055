"""Phone numbers, read the same way everywhere: a shared contact, a typed phone, the registry CSV
and the workers' roster. Parsed and checked with `phonenumbers` (libphonenumber's data).

Canonical form, the one the database stores (digits only, so both sides of a match agree):
  mainland China  the national number: 13800000301 (mobile), 01012345678 (landline, trunk 0)
  Hong Kong       852 and the 8 digits: 85291234567
Accepted input: +86 / 86 / 0086 / +852 / 852 / 00852 prefixes, spaces, dashes, dots, brackets
and full-width digits. Telegram sends a contact as 8613800000301 (no plus). A bare 8-digit number
is not taken as Hong Kong: without +852 it may be a mainland number missing its area code."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

_SEPARATORS = re.compile(r"[\s\-.()\u3000]+")
_DIALABLE = re.compile(r"^\+?\d{3,20}$")
_NON_DIGITS = re.compile(r"\D+")
# country code without "+": Telegram's contacts and people typing "86 138…" / "852 9123…"
_BARE_COUNTRY = (("86", 13), ("852", 11))
REGIONS = ("CN", "HK")


def _parse(raw: str | None) -> phonenumbers.PhoneNumber | None:
    # NFKC: full-width digits and signs from a Chinese input method (１３８…, ＋86) become ASCII
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or ""))
    if not _DIALABLE.match(text):
        return None  # letters, several numbers, or far too short/long: not one phone number
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+"):
        for code, length in _BARE_COUNTRY:
            if text.startswith(code) and len(text) == length:
                text = "+" + text
                break
    try:
        return phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None


def normalize_phone(raw: str | None) -> str | None:
    """The canonical form of a valid mainland China or Hong Kong number, else None."""
    n = _parse(raw)
    if n is None or not phonenumbers.is_valid_number(n):
        return None
    region = phonenumbers.region_code_for_number(n)
    if region == "CN":
        national = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
        return _NON_DIGITS.sub("", national)
    if region == "HK":
        return f"{n.country_code}{n.national_number}"
    return None


def looks_like_phone(text: str) -> bool:
    """Someone typed what is meant as a phone number (valid or not): digits enough to be one."""
    n = _parse(text)
    return n is not None and len(str(n.national_number)) >= 7 and phonenumbers.is_possible_number(n)


def mask_phone(phone: str) -> str:
    """138****5678: for logs and agents' cards where the full number is not needed."""
    d = normalize_phone(phone) or _NON_DIGITS.sub("", phone or "")
    if len(d) < 7:
        return "*" * len(d)
    return d[:3] + "*" * (len(d) - 7) + d[-4:]
